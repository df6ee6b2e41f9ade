// SPDX-License-Identifier: Apache-2.0
// What the lint, the release and the consumer test share about the published packages: which
// packages are public, how they are packed (pnpm pack, once for all of them: it rewrites
// `workspace:` ranges and applies publishConfig), how a tarball is read, and the checks a tarball
// must pass (publint, arethetypeswrong, the file allow-rule, the packed manifest).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Folders pnpm-workspace.yaml names, one level each (integration is private). */
const PARENTS = ['packages', 'packages/plugins', 'packages/plugins/main', 'packages/plugins/ipam', 'packages/plugins/meta', 'apps'];

/** The export condition the workspace resolves to sources with; never in a published manifest. */
export const SOURCE_CONDITION = '@cni/source';

/**
 * TypeScript resolutions a consumer may use. The packages are ESM-only (`"type": "module"`,
 * no `require` condition), so CommonJS consumers (node16 from CJS) and the legacy `node10`
 * resolution are not supported: the same as arethetypeswrong's `--profile esm-only`.
 */
export const IGNORED_RESOLUTIONS = ['node10', 'node16-cjs'];

/** Every workspace package that is not private: `{ name, dir, manifest }`, sorted by name. */
export function publicPackages(root = process.cwd()) {
  const found = [];
  for (const parent of PARENTS) {
    if (!existsSync(join(root, parent))) continue;
    for (const entry of readdirSync(join(root, parent))) {
      const dir = join(parent, entry);
      const file = join(root, dir, 'package.json');
      if (!statSync(join(root, dir)).isDirectory() || !existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      if (!manifest.private) found.push({ name: manifest.name, dir, manifest });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Packs `packages` (from publicPackages) into `destination` with one `pnpm -r pack`, as
 * `pnpm publish` would pack them. Returns `{ name, version, filename }` per package.
 */
export function packPackages(packages, destination, root = process.cwd()) {
  const filters = packages.flatMap(({ dir }) => ['--filter', `./${dir}`]);
  const result = spawnSync('pnpm', ['-r', '--workspace-concurrency=4', ...filters, 'pack', '--pack-destination', destination, '--json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`pnpm pack failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}${result.stdout}`);
  // An array for several packages, one object for one package.
  const start = result.stdout.search(/^[[{]/m);
  const parsed = JSON.parse(result.stdout.slice(start));
  const packed = Array.isArray(parsed) ? parsed : [parsed];
  return packed.map(({ name, version, filename }) => ({ name, version, filename }));
}

/** The files of a .tgz as a Map from path (without the leading `package/`) to contents and mode. */
export function readTarball(file) {
  const data = gunzipSync(readFileSync(file));
  const files = new Map();
  let longName;
  for (let offset = 0; offset + 512 <= data.length; ) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // A pax header: only its `path` record matters here (names longer than ustar's 100 bytes).
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    if (type !== '0') continue;
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    files.set(name.replace(/^[^/]+\//, ''), { data: Buffer.from(body), mode: Number.parseInt(field(100, 8).trim() || '0', 8) });
  }
  return files;
}

/** Every target path an `exports` value names (conditions flattened), with its `*` kept. */
function exportTargets(value, out = []) {
  if (typeof value === 'string') out.push(value.replace(/^\.\//, ''));
  else if (Array.isArray(value)) for (const item of value) exportTargets(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) exportTargets(item, out);
  return out;
}

function globToRegExp(pattern) {
  const stars = { '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*' };
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?|\*/g, (star) => stars[star]);
  return new RegExp(`^${escaped}$`);
}

/** What never belongs in a tarball: tests, fixtures, sources, build and TypeScript configuration. */
const DENIED = [
  [/(^|\/)(__tests__|__fixtures__|testing)\//, 'test code'],
  [/\.(test|integration\.test|e2e\.test|vm\.test|lease\.test|fuzz\.test|fixture)\.[cm]?[jt]s$/, 'test code'],
  [/(^|\/)tsconfig[^/]*\.json$|(^|\/)(tsup|vitest|turbo)\.config\.[cm]?[jt]s$/, 'build configuration'],
  [/(?<!\.d)\.[cm]?ts$/, 'TypeScript source (published code is dist/*.js with dist/*.d.ts)'],
  [/^src\//, 'sources (dist/*.js.map carry their sourcesContent)'],
  [/(^|\/)\.[^/]+$/, 'a dot file'],
];

/**
 * The allow-rule of a tarball: the manifest, README, CHANGELOG and LICENSE, the build output
 * under dist/, what `exports` and `bin` name, and data files and folders the manifest's `files`
 * lists besides dist (multinet's manifests/, ipam-dhcp's systemd/) — minus anything DENIED.
 */
export function checkTarballFiles(manifest, fileNames) {
  const paths = [...fileNames];
  const problems = [];
  const dataFolders = (manifest.files ?? []).filter((entry) => !entry.startsWith('!') && !/^(dist|README\.md|CHANGELOG\.md|LICENSE)$/.test(entry));
  const allowed = [
    /^(package\.json|README\.md|CHANGELOG\.md|LICENSE)$/,
    /^dist\//,
    ...exportTargets(manifest.exports).map(globToRegExp),
    ...Object.values(typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {})).map((target) => globToRegExp(target.replace(/^\.\//, ''))),
    // A `files` entry is a file or a folder.
    ...dataFolders.flatMap((entry) => [globToRegExp(entry.replace(/\/$/, '')), globToRegExp(`${entry.replace(/\/$/, '')}/**`)]),
  ];
  for (const path of paths) {
    const denied = DENIED.find(([pattern]) => pattern.test(path));
    if (denied) problems.push(`${path}: ${denied[1]} must not be published`);
    else if (!allowed.some((pattern) => pattern.test(path))) problems.push(`${path}: not named by exports, bin or files' data folders`);
  }
  for (const target of exportTargets(manifest.exports)) {
    const pattern = globToRegExp(target);
    if (!paths.some((path) => pattern.test(path))) problems.push(`exports names ${target}, which is not in the tarball`);
  }
  return problems;
}

/** The manifest as packed: real versions for `workspace:` ranges, no source condition. */
export function checkPackedManifest(packed, source) {
  const problems = [];
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (/^(workspace|link|file|portal|catalog):/.test(range)) problems.push(`${field}.${dep} is "${range}" in the packed manifest`);
    }
  }
  for (const [dep, range] of Object.entries(source.dependencies ?? {})) {
    if (!range.startsWith('workspace:')) continue;
    if (!/^\d+\.\d+\.\d+/.test(packed.dependencies?.[dep] ?? '')) problems.push(`dependencies.${dep} packed as "${packed.dependencies?.[dep]}", expected a version`);
  }
  if (JSON.stringify(packed.exports ?? null).includes(SOURCE_CONDITION)) {
    problems.push(`the packed exports keep the "${SOURCE_CONDITION}" condition: give publishConfig.exports the same map without it`);
  }
  // publishConfig.exports must follow exports: the same entries and targets, minus the source condition.
  const strip = (value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([key]) => key !== SOURCE_CONDITION).map(([key, item]) => [key, strip(item)]))
      : value;
  if (source.publishConfig?.exports && source.name !== '@cni/cnitool') {
    if (JSON.stringify(strip(source.exports)) !== JSON.stringify(source.publishConfig.exports)) {
      problems.push(`publishConfig.exports differs from exports without "${SOURCE_CONDITION}": keep them in step (${JSON.stringify(strip(source.exports))})`);
    }
  } else if (!source.publishConfig?.exports) {
    problems.push(`no publishConfig.exports: the published manifest needs exports without "${SOURCE_CONDITION}" (${JSON.stringify(strip(source.exports))})`);
  }
  if (source.publishConfig?.access !== 'public') problems.push('publishConfig.access must be "public" (a scoped package is private on npm otherwise)');
  return problems;
}

/** publint on the tarball's files; suggestions count, as warnings and errors do. */
export async function runPublint(files) {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const packFiles = [...files].map(([name, { data }]) => ({ name: `package/${name}`, data: new Uint8Array(data) }));
  const { messages, pkg } = await publint({ pkgDir: 'package', pack: { files: packFiles }, level: 'suggestion', strict: true });
  return messages.map((message) => `publint ${message.type}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`);
}

/**
 * arethetypeswrong on the tarball: problems for node16 (from ESM) and bundler resolution; the
 * IGNORED_RESOLUTIONS are unsupported. A package without types (a CLI) has nothing to check.
 */
export async function runAttw(tarball) {
  const core = await import('@arethetypeswrong/core');
  const analysis = await core.checkPackage(core.createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
  if (!analysis.types) return [];
  return analysis.problems
    .filter((problem) => !('resolutionKind' in problem) || !IGNORED_RESOLUTIONS.includes(problem.resolutionKind))
    .map((problem) => `attw ${problem.kind}: ${JSON.stringify({ ...problem, kind: undefined })}`);
}

/**
 * runAttw for many tarballs, in this thread and one after the other: TypeScript warms up over the
 * first few packages, so worker threads (each loading and warming its own copy) were slower on
 * 2 cores. A tarball that passed before (same bytes, same checker versions) is not checked again:
 * the passes are remembered in `cacheFile`.
 */
export async function runAttwAll(tarballs, cacheFile) {
  // The key of the remembered passes: the checker's installed version (a new one checks again).
  const versions = `@arethetypeswrong/core@${JSON.parse(readFileSync(new URL('../../node_modules/@arethetypeswrong/core/package.json', import.meta.url), 'utf8')).version}`;
  let passed = {};
  if (cacheFile && existsSync(cacheFile)) {
    try {
      passed = JSON.parse(readFileSync(cacheFile, 'utf8'));
    } catch {
      passed = {};
    }
  }
  if (passed.versions !== versions) passed = { versions, tarballs: {} };
  const results = [];
  for (const tarball of tarballs) {
    const digest = contentDigest(tarball);
    if (passed.tarballs[digest]) {
      results.push([]);
      continue;
    }
    const problems = await runAttw(tarball);
    if (problems.length === 0) passed.tarballs[digest] = true;
    results.push(problems);
  }
  if (cacheFile) {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(passed));
  }
  return results;
}

/**
 * A digest of what a tarball holds, not of its bytes: pnpm writes the dependencies of a packed
 * manifest in an order that varies from one pack to the next, so the manifest is hashed with its
 * keys sorted.
 */
function contentDigest(tarball) {
  const sortKeys = (value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]))
      : value;
  const hash = createHash('sha256');
  for (const [path, { data, mode }] of [...readTarball(tarball)].sort(([a], [b]) => a.localeCompare(b))) {
    const content = path === 'package.json' ? JSON.stringify(sortKeys(JSON.parse(data.toString('utf8')))) : data;
    hash.update(`${path}\0${mode}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/**
 * Every check on packed tarballs (`packed` from packPackages, `packages` from publicPackages):
 * the packed manifest, the allow-rule, publint and arethetypeswrong (its passes remembered in
 * `attwCache`, a JSON file, when given). Returns `name: problem` lines.
 */
export async function checkPacked(packages, packed, attwCache) {
  const problems = [];
  const attw = await runAttwAll(packed.map(({ filename }) => filename), attwCache);
  for (const [index, { name, filename }] of packed.entries()) {
    const source = packages.find((pkg) => pkg.name === name).manifest;
    const files = readTarball(filename);
    const manifest = JSON.parse(files.get('package.json').data.toString('utf8'));
    const found = [
      ...checkPackedManifest(manifest, source),
      // The allow-rule reads the source's `files` (the data folders it names).
      ...checkTarballFiles({ ...manifest, files: source.files }, files.keys()),
      ...(await runPublint(files)),
      ...attw[index],
    ];
    for (const problem of found) problems.push(`${name} (packed): ${problem}`);
  }
  return problems;
}
