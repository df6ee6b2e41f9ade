#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// `pnpm release`: the release artefacts in one folder, nothing published. Builds the workspace
// (the bundle with `pnpm --filter @cni/cni-bundle build`), packs every public package with pnpm
// (real versions for `workspace:` ranges, publishConfig applied), checks each tarball as the lint
// does, copies the bundle tarballs (apps/cni-bundle/dist/*.tar.gz, and dist/*/*.tar.gz for another
// architecture's build folder) beside them and writes
// SHA256SUMS (`sha256sum -c SHA256SUMS` verifies it). See docs/releasing.md.
//
//   node scripts/release.mjs [--out DIR] [--dry-run] [--skip-build] [--skip-checks]
//
// --out DIR      where the artefacts go (default release/; emptied first)
// --dry-run      for tests and rehearsals: pending changesets are allowed and --out defaults to a
//                new temp folder
// --skip-build   use the dist/ folders as they are (after `pnpm build`)
// --skip-checks  skip publint, arethetypeswrong and the allow-rule (`pnpm lint` ran them)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPacked, packPackages, publicPackages, readTarball } from './lib/packaging.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const { values: options } = parseArgs({
  options: {
    out: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    'skip-checks': { type: 'boolean', default: false },
  },
});

function run(command, args) {
  console.log(`release: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
}

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}

// Versions and changelogs come from `pnpm changeset version`: a release with changesets still
// waiting would ship versions that do not say what changed.
const pending = readdirSync(join(root, '.changeset')).filter((file) => file.endsWith('.md') && file !== 'README.md');
if (pending.length > 0 && !options['dry-run']) {
  fail(`${pending.length} changeset(s) not yet applied (${pending.slice(0, 3).join(', ')}...): run \`pnpm changeset version\` and commit first`);
}

const out = resolve(options.out ?? (options['dry-run'] ? mkdtempSync(join(tmpdir(), 'cni-release-')) : join(root, 'release')));
// Emptied first, but only if it holds nothing but earlier artefacts: never a folder of anything else.
const ARTEFACT = /^(.+\.tgz|.+\.tar\.gz|SHA256SUMS)$/;
const foreign = existsSync(out) ? readdirSync(out).filter((file) => !ARTEFACT.test(file)) : [];
if (foreign.length > 0) fail(`${out} holds other files than release artefacts (${foreign.slice(0, 3).join(', ')}): choose another --out`);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

if (!options['skip-build']) {
  run('pnpm', ['turbo', 'run', 'build', '--filter=!@cni/cni-bundle']);
  run('pnpm', ['--filter', '@cni/cni-bundle', 'build']);
}

const packages = publicPackages(root);
const unbuilt = packages.filter(({ dir }) => !existsSync(join(root, dir, 'dist')));
if (unbuilt.length > 0) fail(`not built: ${unbuilt.map(({ dir }) => dir).join(', ')}`);
const packed = packPackages(packages, out, root);

if (!options['skip-checks']) {
  const problems = await checkPacked(packages, packed);
  if (problems.length > 0) fail(`the tarballs have ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
} else {
  // Even unchecked, a tarball must never carry a workspace: range.
  for (const { name, filename } of packed) {
    const manifest = JSON.parse(readTarball(filename).get('package.json').data.toString('utf8'));
    const bad = Object.entries(manifest.dependencies ?? {}).filter(([, range]) => String(range).startsWith('workspace:'));
    if (bad.length > 0) fail(`${name}: packed with ${bad.map(([dep, range]) => `${dep}@${range}`).join(', ')}`);
  }
}

// The bundle: its tarballs as its build leaves them (one per architecture), named with its version.
const bundleDist = join(root, 'apps/cni-bundle/dist');
const bundleVersion = JSON.parse(readFileSync(join(root, 'apps/cni-bundle/package.json'), 'utf8')).version;
// In dist/ or one folder below it (an architecture's build may have a folder of its own).
const bundlePaths = !existsSync(bundleDist)
  ? []
  : readdirSync(bundleDist, { withFileTypes: true }).flatMap((entry) => {
      if (entry.isFile() && entry.name.endsWith('.tar.gz')) return [join(bundleDist, entry.name)];
      if (!entry.isDirectory() || entry.name === 'bin' || entry.name.startsWith('.')) return [];
      return readdirSync(join(bundleDist, entry.name)).filter((file) => file.endsWith('.tar.gz')).map((file) => join(bundleDist, entry.name, file));
    });
const bundles = bundlePaths.map((path) => basename(path));
if (bundles.length === 0) fail('no bundle tarball in apps/cni-bundle/dist (run `pnpm --filter @cni/cni-bundle build`)');
if (new Set(bundles).size !== bundles.length) fail(`two bundle tarballs of the same name: ${bundlePaths.join(', ')}`);
const stale = bundles.filter((file) => !file.includes(`-${bundleVersion}-`));
if (stale.length > 0) fail(`bundle tarballs of another version than ${bundleVersion}: ${stale.join(', ')} (rebuild the bundle)`);
for (const path of bundlePaths) copyFileSync(path, join(out, basename(path)));

// SHA256SUMS in sha256sum's own format, sorted, so `sha256sum -c SHA256SUMS` checks the folder.
const artefacts = readdirSync(out).filter((file) => ARTEFACT.test(file) && file !== 'SHA256SUMS').sort();
const sums = artefacts.map((file) => `${createHash('sha256').update(readFileSync(join(out, file))).digest('hex')}  ${file}`);
writeFileSync(join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`);

console.log(`release: ${packed.length} package tarballs and ${bundles.length} bundle tarball(s) in ${out}${options['dry-run'] ? ' (dry run)' : ''}`);
for (const { name, version, filename } of packed) console.log(`  ${name}@${version}  ${basename(filename)}`);
for (const file of bundles) console.log(`  ${file}`);
console.log('  SHA256SUMS');
