#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Second half of `pnpm build` (tsup wrote dist/.js): makes the bundle's payload — the launcher,
// the Node runtime, the plugins' files, ffi-rs and the shared libraries nothing on the host has to
// provide — installs it into dist/bin with the bundle's own `cni-bundle install`, and packs
// dist/cni-bundle-<version>-linux-x64.tar.gz. The host needs no Node, node_modules or libnl.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(app, 'dist');
// tsup's output for this build (see tsup.config.ts: named by the shell both run in).
const built = join(dist, `.js-${process.ppid}`);
const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
const runtime = JSON.parse(readFileSync(join(app, 'runtime.json'), 'utf8'));
const cache = join(app, 'node_modules', '.cache', 'cni-bundle');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr ?? ''}${result.stdout ?? ''}`);
  }
  return result.stdout;
}

/** The pinned Node runtime from the npm registry, integrity checked, with RUNPATH $ORIGIN/lib. */
function nodeRuntime() {
  const dir = join(cache, `${runtime.package}-${runtime.version}`);
  const node = join(dir, 'node');
  if (existsSync(node)) return dir;
  mkdirSync(cache, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', `${runtime.package}@${runtime.version}`, '--pack-destination', cache, '--json', '--silent']));
  const tarball = join(cache, packed[0].filename);
  const [algorithm, expected] = runtime.integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
  if (actual !== expected) throw new Error(`${tarball}: integrity ${algorithm}-${actual}, runtime.json pins ${runtime.integrity}`);
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  renameSync(join(staging, 'bin', 'node'), join(staging, 'node'));
  // The C++ runtime it needs travels in the payload's lib/: found there first, whatever the host has.
  run('patchelf', ['--set-rpath', '$ORIGIN/lib', join(staging, 'node')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  rmSync(tarball, { force: true });
  return dir;
}

/** The file a shared library `soname` resolves to for `binary` (ldd), or from the loader's cache. */
function libraryPath(soname, binary) {
  const line = run('ldd', [binary]).split('\n').find((l) => l.trim().startsWith(`${soname} =>`));
  const fromLdd = line?.match(/=>\s+(\S+)/)?.[1];
  if (fromLdd && existsSync(fromLdd)) return fromLdd;
  const cached = run('ldconfig', ['-p']).split('\n').find((l) => l.trim().startsWith(`${soname} (`) && l.includes('x86-64'));
  const fromCache = cached?.match(/=>\s+(\S+)/)?.[1];
  if (fromCache && existsSync(fromCache)) return fromCache;
  throw new Error(`cannot find ${soname} on this machine (install it: see scripts/lib/setup.sh)`);
}

/**
 * Node's built-in modules, other than those every start loads anyway, are required when first
 * used instead of when the file loads: esbuild hoists every `import` of every library to the top
 * of the file, so a plugin that never starts a process would still load child_process, net and
 * streams (about 10 ms). Named imports become `import_x.name` at each use, which the proxy
 * forwards to the module, loaded on first use.
 */
function lazyBuiltins(source) {
  const eager = new Set(['fs', 'path', 'module']);
  let count = 0;
  // `var import_x = require("x");` at the top, and `import_x = require("x");` inside the init
  // functions esbuild wraps lazily evaluated modules in.
  const rewritten = source.replace(/^(\s*)(var )?(import_\w+) = require\("(?:node:)?([a-z_/]+)"\);$/gm, (line, indent, declare, name, id) => {
    if (eager.has(id)) return line;
    count++;
    return `${indent}${declare ?? ''}${name} = __cniLazyBuiltin(${JSON.stringify(`node:${id}`)});`;
  });
  if (count === 0) return source;
  const helper =
    'var __cniLazyBuiltin = (id) => { let m; const load = () => (m ??= require(id)); return new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; } }); };\n';
  return rewritten.replace(/^("use strict";\n)?/, (strict) => `${strict}${helper}`);
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function assemble() {
  if (process.arch !== 'x64' || process.platform !== 'linux') throw new Error(`the bundle is built for linux x64, not ${process.platform} ${process.arch}`);
  const plugins = readdirSync(join(built, 'plugins'))
    .filter((file) => file.endsWith('.cjs'))
    .map((file) => file.slice(0, -4))
    .sort();
  const payload = join(dist, `.payload-${process.pid}`);
  rmSync(payload, { recursive: true, force: true });
  mkdirSync(join(payload, 'lib'), { recursive: true });
  mkdirSync(join(payload, 'licenses'), { recursive: true });

  cpSync(built, payload, { recursive: true });
  const scripts = ['main.cjs', 'tool.cjs', 'worker.cjs', ...plugins.map((name) => `plugins/${name}.cjs`)].map((file) => join(payload, file));
  for (const file of scripts) writeFileSync(file, lazyBuiltins(readFileSync(file, 'utf8')));

  // The resident daemon's systemd units (`cni-bundle install --resident` fills in the folder).
  cpSync(join(app, 'deploy', 'systemd'), join(payload, 'systemd'), { recursive: true });

  const nodeDir = nodeRuntime();
  copyFileSync(join(nodeDir, 'node'), join(payload, 'node'));
  chmodSync(join(payload, 'node'), 0o755);
  copyFileSync(join(nodeDir, 'LICENSE'), join(payload, 'licenses', 'node.LICENSE'));

  run('cc', ['-O2', '-s', '-Wall', '-Wextra', '-Werror', '-o', join(payload, 'cni-bundle'), join(app, 'launcher', 'cni-bundle.c'), join(app, 'launcher', 'resident.c')]);

  const libraries = [
    ['libstdc++.so.6', join(nodeDir, 'node'), '/usr/share/doc/libstdc++6/copyright'],
    ['libgcc_s.so.1', join(nodeDir, 'node'), '/usr/share/doc/libgcc-s1/copyright'],
    ['libnl-3.so.200', undefined, '/usr/share/doc/libnl-3-200/copyright'],
  ];
  for (const [soname, binary, copyright] of libraries) {
    const from = binary ? libraryPath(soname, binary) : libraryPath(soname, '/bin/true');
    copyFileSync(from, join(payload, 'lib', soname));
    if (existsSync(copyright)) copyFileSync(copyright, join(payload, 'licenses', `${soname}.copyright`));
  }

  // ffi-rs: its entry point and the glibc x64 addon, where Node's resolution from plugins/ finds them.
  const requireHere = createRequire(join(app, 'package.json'));
  const ffiDir = dirname(requireHere.resolve('ffi-rs/package.json'));
  const addonName = '@yuuang/ffi-rs-linux-x64-gnu';
  const addonDir = dirname(createRequire(join(ffiDir, 'package.json')).resolve(`${addonName}/package.json`));
  const ffiManifest = JSON.parse(readFileSync(join(ffiDir, 'package.json'), 'utf8'));
  const ffiOut = join(payload, 'node_modules', 'ffi-rs');
  mkdirSync(ffiOut, { recursive: true });
  for (const file of ['package.json', ffiManifest.main ?? 'index.js', 'LICENSE']) {
    if (existsSync(join(ffiDir, file))) copyFileSync(join(ffiDir, file), join(ffiOut, file));
  }
  const addonOut = join(payload, 'node_modules', addonName);
  mkdirSync(addonOut, { recursive: true });
  for (const file of readdirSync(addonDir)) {
    if (file === 'package.json' || file.endsWith('.node')) copyFileSync(join(addonDir, file), join(addonOut, file));
    // libnl is opened by name from the addon: its RUNPATH points at the payload's lib/.
    if (file.endsWith('.node')) run('patchelf', ['--set-rpath', '$ORIGIN/../../../lib', join(addonOut, file)]);
  }
  if (existsSync(join(ffiDir, 'LICENSE'))) copyFileSync(join(ffiDir, 'LICENSE'), join(payload, 'licenses', 'ffi-rs.LICENSE'));

  // V8's code cache of each file, made by the payload's own runtime (main.cjs only runs the
  // dispatcher: it is small, and compiled eagerly anyway).
  run(join(payload, 'node'), [join(app, 'scripts', 'code-cache.cjs'), ...scripts.slice(1)], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

  // The payload's identity: the bundle's version and a hash of everything in it.
  const hash = createHash('sha256');
  for (const file of filesUnder(payload)) {
    hash.update(relative(payload, file));
    hash.update(file === join(payload, 'node') ? `node ${runtime.version} ${statSync(file).size}` : readFileSync(file));
  }
  const about = { version: manifest.version, node: `v${runtime.version}`, id: `${manifest.version}-${hash.digest('hex').slice(0, 12)}`, plugins };
  writeFileSync(join(payload, 'about.json'), `${JSON.stringify(about, null, 2)}\n`);
  return { payload, about };
}

const { payload, about } = assemble();
try {
  // The bundle installs itself: the same code as `cni-bundle install --dir /opt/cni/bin`.
  const bin = join(dist, 'bin');
  process.stdout.write(run(join(payload, 'cni-bundle'), ['install', '--dir', bin], { argv0: 'cni-bundle', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }));
  // Left by the first bundle layout (one Node script per plugin).
  rmSync(join(dist, 'package.json'), { force: true });
  const tarball = join(dist, `cni-bundle-${about.version}-linux-x64.tar.gz`);
  const names = [...about.plugins, 'cni-bundle', `.cni-bundle-${about.id}`];
  run('tar', ['-czf', `${tarball}.tmp-${process.pid}`, '-C', bin, ...names]);
  renameSync(`${tarball}.tmp-${process.pid}`, tarball);
  process.stdout.write(`packed ${relative(app, tarball)} (${(statSync(tarball).size / 1e6).toFixed(1)} MB)\n`);
} finally {
  rmSync(payload, { recursive: true, force: true });
  rmSync(built, { recursive: true, force: true });
}
