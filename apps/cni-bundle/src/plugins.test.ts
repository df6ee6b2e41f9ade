// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownPlugins } from '@cni/bundle';
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

  it('is what the bundler builds: @cni/bundle lists the same names, and each entry imports the same value', async () => {
    expect(Object.keys(ownPlugins).sort()).toEqual(Object.keys(plugins).sort());
    for (const [name, own] of Object.entries(ownPlugins)) {
      const module = (await import(own.from)) as Record<string, unknown>;
      const value = module[own.export];
      // multinet's entry builds its plugin per run (createMultinet with the bundle's exec).
      if (typeof value === 'function') expect(own.entry, `${name}: a factory needs its own entry`).toBeDefined();
      else expect(value, `${own.from} exports ${own.export}`).toBe(plugins[name as keyof typeof plugins]);
    }
  });
});
