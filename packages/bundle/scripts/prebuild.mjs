#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Second half of this package's build (tsup wrote dist/*.js and dist/payload): the parts of a
// bundle a user must not need a compiler or a particular distribution for, made once when the
// package is built and shipped in it. dist/prebuilt/linux-<arch>/: the launcher (C, from
// apps/cni-bundle/launcher), lib/ (libstdc++, libgcc_s and libnl, which the runtime and ffi-rs'
// addon load) and their licences. dist/payload/systemd: the resident daemon's units.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
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

/**
 * linux-arm64, cross-built: the launcher with Debian's gcc-aarch64-linux-gnu, the libraries from
 * Debian's arm64 packages (`apt-get download` into a private apt state, then `dpkg -x`: nothing is
 * installed and the machine's apt configuration is not changed). Skipped, with a note, on a
 * machine without the cross compiler (scripts/lib/setup.sh installs it).
 */
function arm64() {
  const gcc = 'aarch64-linux-gnu-gcc';
  if (spawnSync(gcc, ['--version']).status !== 0) {
    process.stdout.write(`no ${gcc}: this build carries no linux-arm64 launcher\n`);
    return;
  }
  const out = join(root, 'dist', 'prebuilt', 'linux-arm64');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'lib'), { recursive: true });
  mkdirSync(join(out, 'licenses'), { recursive: true });
  run(gcc, ['-O2', '-s', '-Wall', '-Wextra', '-Werror', '-o', join(out, 'cni-bundle'), ...launcherSources]);
  const debs = extractDebs(libraries.map(([, debian]) => `${debian}:arm64`));
  for (const [soname, debian] of libraries) {
    const found = ['usr/lib/aarch64-linux-gnu', 'lib/aarch64-linux-gnu'].map((dir) => join(debs, dir, soname)).find((file) => existsSync(file));
    if (!found) throw new Error(`${soname} is not in Debian's ${debian}:arm64`);
    copyFileSync(realpathSync(found), join(out, 'lib', soname));
    // libstdc++6 and libgcc-s1 point their doc folder at gcc-12-base's, which is not unpacked
    // here: this machine's copy of the same Debian source's copyright file stands in.
    const copyright = [join(debs, 'usr', 'share', 'doc', debian, 'copyright'), `/usr/share/doc/${debian}/copyright`].find((file) => existsSync(file));
    if (copyright) copyFileSync(copyright, join(out, 'licenses', `${soname}.copyright`));
  }
}

/** Debian packages (`name:arch`) downloaded and unpacked into one folder, which is returned. */
export function extractDebs(packages) {
  const cache = join(root, 'node_modules', '.cache', 'debs');
  const apt = (command) => [
    '-o', 'APT::Architecture=arm64', '-o', 'APT::Architectures::=arm64',
    '-o', `Dir::State::Lists=${join(cache, 'lists')}`, '-o', `Dir::Cache::archives=${join(cache, 'archives')}`,
    '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Sandbox::User=root', command,
  ];
  mkdirSync(join(cache, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(cache, 'archives', 'partial'), { recursive: true });
  const download = () => spawnSync('apt-get', [...apt('download'), ...packages], { cwd: cache, encoding: 'utf8' });
  if (download().status !== 0) {
    run('apt-get', apt('update'));
    const again = download();
    if (again.status !== 0) throw new Error(`apt-get download ${packages.join(' ')} failed:\n${again.stderr}`);
  }
  const tree = join(cache, 'tree-arm64');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  for (const name of packages.map((p) => p.split(':')[0])) {
    const deb = readdirSync(cache).filter((file) => file.startsWith(`${name}_`) && file.endsWith('_arm64.deb')).sort().at(-1);
    if (!deb) throw new Error(`apt-get download left no ${name} arm64 package in ${cache}`);
    run('dpkg', ['-x', join(cache, deb), tree]);
  }
  return tree;
}

arm64();
cpSync(join(app, 'deploy', 'systemd'), join(root, 'dist', 'payload', 'systemd'), { recursive: true });
process.stdout.write(`prebuilt ${readdirSync(join(root, 'dist', 'prebuilt')).join(' ')}\n`);
