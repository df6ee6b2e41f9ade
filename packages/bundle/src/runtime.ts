// SPDX-License-Identifier: Apache-2.0
// What each generated plugin entry imports (`@cni/bundle/runtime`): how a plugin runs in the
// bundle (its about text, in-process delegation to sibling plugins) and how a user's module names
// its plugin. The code is apps/cni-bundle's runtime, the one the dispatcher and the resident
// daemon's workers share.
import type { CniPlugin } from '@cni/skel';

export type { PluginExec } from '@cni/libcni';

export { bundleDelegateRunner, runBundled } from '../../../apps/cni-bundle/src/runtime/run.ts';
export { bundlePluginExec } from '../../../apps/cni-bundle/src/runtime/plugin-exec.ts';

const isPlugin = (value: unknown): value is CniPlugin =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'cni-plugin';

/**
 * The plugin a user's module exports: its named export `plugin`, else its default export, else
 * its only `definePlugin` value. Throws, naming the module, when there is none or more than one.
 */
export function pickPlugin(module: Record<string, unknown>, from: string): CniPlugin {
  if (isPlugin(module['plugin'])) return module['plugin'];
  const fallback = module['default'];
  if (isPlugin(fallback)) return fallback;
  // A CommonJS module seen through ESM interop: its exports object is the default export.
  if (typeof fallback === 'object' && fallback !== null) {
    const inner = fallback as Record<string, unknown>;
    if (isPlugin(inner['plugin'])) return inner['plugin'];
    if (isPlugin(inner['default'])) return inner['default'];
  }
  const values = Object.entries(module).filter(([, value]) => isPlugin(value));
  if (values.length === 1) return values[0]![1] as CniPlugin;
  throw new Error(
    values.length === 0
      ? `${from} exports no plugin: export a definePlugin value as "plugin" or as the default export`
      : `${from} exports ${values.length} plugins (${values.map(([key]) => key).join(', ')}): export the one to bundle as "plugin"`,
  );
}
