// SPDX-License-Identifier: Apache-2.0
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PluginIo } from '@cni/skel';
import { loadBundledFile } from './load.ts';

/**
 * The folder the bundle runs from (`.cni-bundle-<id>` beside the plugin links): it holds the
 * launcher `cni-bundle`, the runtime, `main.cjs` and `plugins/<name>.cjs`. The launcher starts
 * the runtime on `main.cjs`, so it is the folder of the main script; undefined when this code
 * does not run from a built bundle (tests on the sources).
 */
export function payloadDir(): string | undefined {
  const main = process.argv[1];
  if (main === undefined || basename(main) !== 'main.cjs') return undefined;
  return dirname(main);
}

/** The module of a bundled plugin: how to run it as its executable would run. */
export interface BundledPlugin {
  /** Run the plugin with the given io (the process's by default); resolves to its exit status. */
  run(io?: PluginIo): Promise<number>;
}

let launcher: { dev: number; ino: number } | null | undefined;

/**
 * The bundled plugin `pluginPath` runs, when that file is our launcher (a link to it, symbolic
 * or hard, under the name of one of our plugins); undefined for anything else, which is then
 * executed as any plugin is. Same file, not same name: a Go `bridge` earlier in CNI_PATH is not ours.
 */
export function bundledPluginAt(pluginPath: string, dir: string | undefined = payloadDir()): string | undefined {
  if (dir === undefined) return undefined;
  if (launcher === undefined) {
    const own = statSync(join(dir, 'cni-bundle'), { throwIfNoEntry: false });
    launcher = own ? { dev: own.dev, ino: own.ino } : null;
  }
  if (launcher === null) return undefined;
  const found = statSync(pluginPath, { throwIfNoEntry: false });
  if (!found || found.dev !== launcher.dev || found.ino !== launcher.ino) return undefined;
  const name = basename(pluginPath);
  return statSync(join(dir, 'plugins', `${name}.cjs`), { throwIfNoEntry: false })?.isFile() ? name : undefined;
}

const loaded = new Map<string, BundledPlugin>();

/** Load bundled plugin `name` from the payload, once per process, from its code cache. */
export function loadBundled(name: string, dir: string): BundledPlugin {
  let plugin = loaded.get(name);
  if (plugin === undefined) {
    plugin = loadBundledFile(join(dir, 'plugins', `${name}.cjs`)) as BundledPlugin;
    loaded.set(name, plugin);
  }
  return plugin;
}
