#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The workspace's own conventions, checked (after vercel/ai's konsistent-provider): licence
// lines, the layer rules of docs/architecture.md, where ffi-rs may be imported, explicit
// index exports, and a README per package.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.cwd();
const problems = [];

/** Layer of each workspace package: a package may import only from lower layers (layers 1 and 2 are ordered inside). */
function layerOf(name) {
  if (['@cni/spec', '@cni/ip'].includes(name)) return 0;
  if (name === '@cni/sys') return 1.0;
  if (name === '@cni/netns') return 1.1;
  if (['@cni/netlink', '@cni/netfilter'].includes(name)) return 1.2;
  if (name === '@cni/skel') return 2.0;
  if (['@cni/libcni', '@cni/ipam', '@cni/link'].includes(name)) return 2.1;
  if (name.startsWith('@cni/plugin-') || name.startsWith('@cni/ipam-') || name === '@cni/multinet') return 3;
  if (['@cni/cni-bundle', '@cni/cnitool'].includes(name)) return 4;
  return undefined; // testkit, integration: may import anything
}
const cniAware = (layer) => layer === undefined || layer === 0 || layer >= 2;

function packageDirs() {
  const dirs = [];
  for (const parent of ['packages', 'packages/plugins', 'packages/plugins/main', 'packages/plugins/ipam', 'packages/plugins/meta', 'apps']) {
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent)) {
      const dir = join(parent, entry);
      if (statSync(dir).isDirectory() && existsSync(join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const importPattern = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

for (const dir of packageDirs()) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const name = manifest.name;
  const layer = layerOf(name);
  if (!existsSync(join(dir, 'README.md'))) problems.push(`${dir}: no README.md`);
  const index = join(dir, 'src/index.ts');
  if (existsSync(index) && /^export \* from/m.test(readFileSync(index, 'utf8'))) {
    problems.push(`${index}: name every public export (no "export *")`);
  }
  for (const file of sourceFiles(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    if (!/^(#!.*\n)?\/\/ SPDX-License-Identifier: Apache-2.0/.test(text)) problems.push(`${rel}: first line must be "// SPDX-License-Identifier: Apache-2.0"`);
    const isTest = /\.(test|integration\.test|e2e\.test|vm\.test)\.ts$/.test(file);
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec === 'ffi-rs' && !(rel.startsWith('packages/sys/src/') || rel.startsWith('packages/netlink/src/internal/ffi/'))) {
        problems.push(`${rel}: ffi-rs may be imported only by @cni/sys and @cni/netlink's internal/ffi`);
      }
      if (!spec.startsWith('@cni/') || isTest) continue;
      const target = spec.split('/').slice(0, 2).join('/');
      const targetLayer = layerOf(target);
      if (target === name || layer === undefined) continue;
      if (target === '@cni/testkit') problems.push(`${rel}: only tests may import @cni/testkit`);
      else if (targetLayer === undefined) continue;
      else if (layer === 3 && targetLayer === 3) problems.push(`${rel}: a plugin must not import another plugin (${target}); delegate through skel`);
      else if (targetLayer > layer || (targetLayer === layer && layer !== 3)) problems.push(`${rel}: layer ${layer} (${name}) must not import ${target} (layer ${targetLayer})`);
      else if (!cniAware(layer) && cniAware(targetLayer)) problems.push(`${rel}: generic Linux package ${name} must not import ${target}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`lint: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('lint: workspace conventions hold');
