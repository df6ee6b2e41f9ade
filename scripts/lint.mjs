#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The workspace's own conventions, checked (after vercel/ai's konsistent-provider): licence
// lines, the layer rules of docs/architecture.md, where ffi-rs may be imported, explicit
// index exports, a README per package, the plugin shape (net-conf.ts, cmd-<verb>.ts, <name>.ts,
// no internal/ copies), and that each package declares the workspace packages it imports.
// Then the packaging of every public package (needs `pnpm build` first; CNI_LINT_PACKAGES=0
// skips it): each is packed once with pnpm, and its tarball must pass publint and
// arethetypeswrong (ESM-only: node16 from ESM and bundler), hold only what its exports, bin and
// data folders name, and carry real versions and no source condition in its manifest.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkPacked, packPackages, publicPackages } from './lib/packaging.mjs';

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
const PLUGIN_SHAPE_DIRS = ['packages/plugins/main/', 'packages/plugins/meta/', 'packages/plugins/sample'];
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
  const imports = new Set();
  const testImports = new Set();
  for (const file of sourceFiles(join(dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    if (!/^(#!.*\n)?\/\/ SPDX-License-Identifier: Apache-2.0/.test(text)) problems.push(`${rel}: first line must be "// SPDX-License-Identifier: Apache-2.0"`);
    // Tests, their helpers under __tests__/ and fixtures are test code: they may import testkit.
    const isTest = /\.(test|integration\.test|e2e\.test|vm\.test|lease\.test)\.ts$|\.fixture\.ts$|\/__tests__\/|\/__fixtures__\//.test(file);
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec === 'ffi-rs' && !(rel.startsWith('packages/sys/src/') || rel.startsWith('packages/netlink/src/internal/ffi/'))) {
        problems.push(`${rel}: ffi-rs may be imported only by @cni/sys and @cni/netlink's internal/ffi`);
      }
      if (!spec.startsWith('@cni/')) continue;
      const target = spec.split('/').slice(0, 2).join('/');
      if (target !== name) (isTest ? testImports : imports).add(target);
      if (isTest) continue;
      const targetLayer = layerOf(target);
      if (target === name || layer === undefined) continue;
      if (target === '@cni/testkit') problems.push(`${rel}: only tests may import @cni/testkit`);
      else if (targetLayer === undefined) continue;
      else if (layer === 3 && targetLayer === 3) problems.push(`${rel}: a plugin must not import another plugin (${target}); delegate through skel`);
      else if (targetLayer > layer || (targetLayer === layer && layer !== 3)) problems.push(`${rel}: layer ${layer} (${name}) must not import ${target} (layer ${targetLayer})`);
      else if (!cniAware(layer) && cniAware(targetLayer)) problems.push(`${rel}: generic Linux package ${name} must not import ${target}`);
    }
  }
  const declared = new Set(Object.keys(manifest.dependencies ?? {}).filter((dep) => dep.startsWith('@cni/')));
  const declaredDev = new Set(Object.keys(manifest.devDependencies ?? {}).filter((dep) => dep.startsWith('@cni/')));
  for (const target of imports) if (!declared.has(target)) problems.push(`${dir}: imports ${target} without declaring it in dependencies`);
  for (const target of testImports) {
    if (!declared.has(target) && !declaredDev.has(target)) problems.push(`${dir}: tests import ${target} without declaring it in dependencies or devDependencies`);
  }
  for (const target of declared) if (!imports.has(target) && !testImports.has(target)) problems.push(`${dir}: declares ${target} in dependencies but nothing in it imports it`);
  if (PLUGIN_SHAPE_DIRS.some((parent) => dir.startsWith(parent))) checkPluginShape(dir);
}

/**
 * Where every plugin has one shape: `net-conf.ts` with `loadConf`, one `cmd-<verb>.ts` per verb,
 * `<name>.ts` with `definePlugin`, and no `internal/` folder (what plugins share lives in
 * @cni/link, @cni/skel and @cni/spec). IPAM plugins are not yet in this shape.
 */
function checkPluginShape(dir) {
  const src = join(dir, 'src');
  const name = dir.split('/').pop();
  if (existsSync(join(src, 'internal'))) problems.push(`${src}/internal: a plugin has no internal/ helpers; shared code goes to @cni/link, @cni/skel or @cni/spec`);
  const netConf = join(src, 'net-conf.ts');
  if (!existsSync(netConf) || !/export function loadConf\(/.test(readFileSync(netConf, 'utf8'))) problems.push(`${src}: a plugin needs net-conf.ts exporting loadConf`);
  const main = join(src, `${name}.ts`);
  if (!existsSync(main) || !/definePlugin\(/.test(readFileSync(main, 'utf8'))) problems.push(`${src}: a plugin needs ${name}.ts with its definePlugin value`);
  const verbs = readdirSync(src).filter((file) => file.startsWith('cmd-') && !file.includes('.test.'));
  if (verbs.length === 0) problems.push(`${src}: a plugin needs one cmd-<verb>.ts per verb`);
  for (const file of verbs) if (!/^cmd-(add|del|check|gc|status)\.ts$/.test(file)) problems.push(`${src}/${file}: cmd- files are named after a verb: cmd-add, cmd-del, cmd-check, cmd-gc, cmd-status`);
}

if (process.env.CNI_LINT_PACKAGES !== '0') await checkPackaging();

/** The packaging checks: one `pnpm pack` for all public packages, then every tarball checked. */
async function checkPackaging() {
  const started = performance.now();
  const packages = publicPackages(root);
  const unbuilt = packages.filter(({ dir }) => !existsSync(join(dir, 'dist')));
  if (unbuilt.length > 0) {
    problems.push(`packaging: ${unbuilt.map(({ dir }) => dir).join(', ')} not built (run pnpm build first, or CNI_LINT_PACKAGES=0 to skip the packaging checks)`);
    return;
  }
  const destination = mkdtempSync(join(tmpdir(), 'cni-lint-pack-'));
  try {
    const packed = packPackages(packages, destination, root);
    // arethetypeswrong is the slow part (a TypeScript program per entry point and resolution):
    // a tarball whose bytes passed before is not checked again.
    problems.push(...(await checkPacked(packages, packed, join(root, 'node_modules/.cache/cni-lint/attw-passed.json'))));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`lint: packed and checked ${packed.length} public packages in ${seconds} s`);
  } finally {
    rmSync(destination, { recursive: true, force: true });
  }
}

if (problems.length > 0) {
  console.error(`lint: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('lint: workspace conventions hold');
