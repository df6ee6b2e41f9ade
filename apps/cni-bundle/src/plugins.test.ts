// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plugins } from './plugins.ts';

const root = new URL('../../../', import.meta.url).pathname;

/** Every package.json under packages/plugins, at any depth. */
function pluginManifests(dir = join(root, 'packages/plugins')): { name: string; dir: string }[] {
  const found: { name: string; dir: string }[] = [];
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name === 'dist') continue;
    const sub = join(dir, entry.name);
    const manifest = join(sub, 'package.json');
    if (existsSync(manifest)) found.push({ name: JSON.parse(readFileSync(manifest, 'utf8')).name, dir: sub });
    else found.push(...pluginManifests(sub));
  }
  return found;
}

const bundleManifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const launchers = readdirSync(new URL('./bin/', import.meta.url))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -3))
  .sort();

describe('the plugin registry', () => {
  const packages = pluginManifests().filter(({ name }) => /^@cni\/(plugin|ipam)-/.test(name));

  it('finds the workspace plugin packages', () => {
    expect(packages.map(({ name }) => name)).toContain('@cni/plugin-sample');
  });

  it.each(packages.map(({ name }) => name))('registers %s, and depends on it', async (name) => {
    expect(bundleManifest.dependencies?.[name]).toBe('workspace:*');
    const module = (await import(name)) as Record<string, unknown>;
    const values = Object.values(module).filter(
      (value) => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'cni-plugin',
    );
    expect(values.length, `${name} exports no definePlugin value`).toBeGreaterThan(0);
    for (const value of values) expect(Object.values(plugins)).toContain(value);
  });

  it('registers every plugin under its own name', () => {
    for (const [key, plugin] of Object.entries(plugins)) expect(plugin.name).toBe(key);
  });

  it('has one launcher per registered plugin, running that plugin', () => {
    expect(launchers).toEqual(Object.keys(plugins).sort());
    for (const name of launchers) {
      const text = readFileSync(new URL(`./bin/${name}.ts`, import.meta.url), 'utf8');
      const runs = /runBundled\((\w+)\(?/.exec(text);
      expect(runs, `src/bin/${name}.ts runs its plugin through runBundled`).not.toBeNull();
      // The launcher's variable names the same plugin value (or its factory) the registry holds under `name`.
      expect(text).toMatch(new RegExp(`import \\{ ${runs![1]!} \\} from '@cni/`));
    }
  });
});
