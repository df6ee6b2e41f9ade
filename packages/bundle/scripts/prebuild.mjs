#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Second half of this package's build (tsup wrote dist/*.js and dist/payload): the parts of a
// bundle a user must not need a compiler or a particular distribution for, made once when the
// package is built and shipped in it. dist/prebuilt/linux-<arch>/: the launcher (C, from
// apps/cni-bundle/launcher), lib/ (libstdc++, libgcc_s and libnl, which the runtime and ffi-rs'
// addon load) and their licences. dist/payload/systemd: the resident daemon's units.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const app = join(root, '..', '..', 'apps', 'cni-bundle');

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The file the loader's cache gives for `soname` on this x86-64 machine. */
function hostLibrary(soname) {
  const line = run('ldconfig', ['-p']).split('\n').find((l) => l.trim().startsWith(`${soname} (`) && l.includes('x86-64'));
  const path = line?.match(/=>\s+(\S+)/)?.[1];
  if (!path || !existsSync(path)) throw new Error(`cannot find ${soname} on this machine (install it: see scripts/lib/setup.sh)`);
  return path;
}

const libraries = [
  ['libstdc++.so.6', 'libstdc++6'],
  ['libgcc_s.so.1', 'libgcc-s1'],
  ['libnl-3.so.200', 'libnl-3-200'],
];

const launcherSources = readdirSync(join(app, 'launcher'))
  .filter((file) => file.endsWith('.c'))
  .sort()
  .map((file) => join(app, 'launcher', file));

const x64 = join(root, 'dist', 'prebuilt', 'linux-x64');
rmSync(x64, { recursive: true, force: true });
mkdirSync(join(x64, 'lib'), { recursive: true });
mkdirSync(join(x64, 'licenses'), { recursive: true });
run('cc', ['-O2', '-s', '-Wall', '-Wextra', '-Werror', '-o', join(x64, 'cni-bundle'), ...launcherSources]);
for (const [soname, debian] of libraries) {
  copyFileSync(hostLibrary(soname), join(x64, 'lib', soname));
  const copyright = `/usr/share/doc/${debian}/copyright`;
  if (existsSync(copyright)) copyFileSync(copyright, join(x64, 'licenses', `${soname}.copyright`));
}

cpSync(join(app, 'deploy', 'systemd'), join(root, 'dist', 'payload', 'systemd'), { recursive: true });
process.stdout.write(`prebuilt ${readdirSync(join(root, 'dist', 'prebuilt')).join(' ')}\n`);
