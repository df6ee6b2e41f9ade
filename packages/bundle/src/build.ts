// SPDX-License-Identifier: Apache-2.0
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownPlugins } from './registry.ts';

/** The architectures a bundle is built for (Linux, glibc). */
export type BundleArch = 'x64' | 'arm64';

/** What {@link buildBundle} takes. */
export interface BundleOptions {
  /**
   * Your plugins: npm package names (installed where `cwd` resolves them) or folders (`./veth`),
   * each optionally followed by `=<name>` to choose its executable's name (default: the plugin
   * value's `name`). See the README for the export shape.
   */
  plugins?: readonly string[];
  /** The project's own plugins to include: `'all'` (default), `'none'`, or their names. */
  ours?: 'all' | 'none' | readonly string[];
  /** Where `bin/` and the tarball are written (default `dist`, under `cwd`). */
  outDir?: string;
  /** The bundle's name, the tarball's prefix (default `cni-bundle`). */
  name?: string;
  /** The bundle's version (default: `cwd`'s package.json version, else `0.0.0`). */
  version?: string;
  /** The target architecture (default: this machine's). */
  arch?: BundleArch;
  /** Extra export conditions for resolving modules (the workspace builds from sources: `@cni/source`). */
  conditions?: readonly string[];
  /** Where downloaded runtimes are kept (default `$CNI_BUNDLE_CACHE`, else `~/.cache/cni-bundle`). */
  cacheDir?: string;
  /** The folder plugin specifiers and relative paths resolve from (default: the process's). */
  cwd?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@link buildBundle} wrote. */
export interface BundleReport {
  /** The installed layout: every plugin a link to the launcher in `.<name>-<id>/`. */
  bin: string;
  /** The tarball of `bin`, to unpack anywhere and install with `./cni-bundle install --dir`. */
  tarball: string;
  /** The plugins it ships, by executable name. */
  plugins: string[];
  /** The payload's identity: version and content hash. */
  id: string;
  arch: BundleArch;
}

/** The error of a bundle that cannot be built: the message says what to change. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** This package's folder (from dist/ or src/: both one level down). */
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

interface RuntimePin {
  version: string;
  [platform: `linux-${string}`]: { package: string; integrity: string } | undefined;
}

interface Entry {
  key: string;
  out: string;
  code: string;
  resolveDir: string;
  /** A user's plugin: its specifier and the name asked for, if any. */
  user?: { spec: string; name?: string };
}

function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    const why = result.error?.message ?? `exit ${result.status ?? result.signal}`;
    throw new BundleError(`${command} ${args.join(' ')} failed (${why}):\n${String(result.stderr ?? '')}${String(result.stdout ?? '')}`);
  }
  return String(result.stdout);
}

/**
 * Build a bundle: the launcher, the pinned Node runtime, one code-cached file per plugin (yours
 * and the project's) with in-process delegation among all of them, installed into `<outDir>/bin`
 * and packed as `<outDir>/<name>-<version>-linux-<arch>.tar.gz`.
 */
export async function buildBundle(options: BundleOptions = {}): Promise<BundleReport> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const arch = options.arch ?? hostArch();
  const outDir = resolve(cwd, options.outDir ?? 'dist');
  const name = options.name ?? 'cni-bundle';
  const version = options.version ?? projectVersion(cwd);
  const log = options.log ?? (() => {});
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new BundleError(`--name "${name}": use lower-case letters, digits, ".", "_" and "-"`);
  const prebuilt = join(packageRoot, 'dist', 'prebuilt', `linux-${arch}`);
  if (!existsSync(join(prebuilt, 'cni-bundle'))) {
    throw new BundleError(`this @cni/bundle has no launcher for linux-${arch} (${relative(cwd, prebuilt)}): architectures it carries: ${carriedArchs().join(', ') || 'none'}`);
  }

  const entries = pluginEntries(options, cwd);
  if (entries.length === 0) throw new BundleError('nothing to bundle: name a plugin, or keep the project\'s (--ours)');
  mkdirSync(outDir, { recursive: true });
  const built = join(outDir, `.js-${process.pid}`);
  const payload = join(outDir, `.payload-${process.pid}`);
  try {
    log(`bundling ${entries.length} plugins`);
    await bundleEntries(entries, built, version, options.conditions ?? []);
    const plugins = nameEntries(entries, built);
    const about = await assemble({ built, payload, plugins, arch, version, cacheDir: cacheDir(options), log });
    const bin = join(outDir, 'bin');
    // The bundle installs itself (`cni-bundle install`, as on a node); a bundle of another
    // architecture runs the same tool.cjs on this machine's Node.
    const native = arch === hostArch();
    const [command, ...installArgs] = native ? [join(payload, 'cni-bundle'), 'install', '--dir', bin] : [process.execPath, join(payload, 'main.cjs'), 'install', '--dir', bin, '--any-arch'];
    log(run(command!, installArgs, { argv0: 'cni-bundle', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } }).trimEnd());
    const tarball = join(outDir, `${name}-${version}-linux-${arch}.tar.gz`);
    const temporary = `${tarball}.tmp-${process.pid}`;
    run('tar', ['-czf', temporary, '-C', bin, ...about.plugins, 'cni-bundle', `.cni-bundle-${about.id}`]);
    renameSync(temporary, tarball);
    log(`packed ${relative(cwd, tarball)} (${(statSync(tarball).size / 1e6).toFixed(1)} MB)`);
    return { bin, tarball, plugins: about.plugins, id: about.id, arch };
  } finally {
    rmSync(payload, { recursive: true, force: true });
    rmSync(built, { recursive: true, force: true });
  }
}

function hostArch(): BundleArch {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    throw new BundleError(`bundles are built on Linux x64 or arm64, not ${process.platform} ${process.arch}`);
  }
  return process.arch;
}

function carriedArchs(): string[] {
  const dir = join(packageRoot, 'dist', 'prebuilt');
  return existsSync(dir) ? readdirSync(dir).filter((entry) => existsSync(join(dir, entry, 'cni-bundle'))) : [];
}

function projectVersion(cwd: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function cacheDir(options: BundleOptions): string {
  return resolve(options.cacheDir ?? process.env['CNI_BUNDLE_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'cni-bundle'));
}

/** The generated entry of every plugin: ours from the registry, the user's from their modules. */
function pluginEntries(options: BundleOptions, cwd: string): Entry[] {
  const runtime = join(packageRoot, 'dist', 'runtime.js');
  if (!existsSync(runtime)) throw new BundleError(`${runtime} is missing: build @cni/bundle first`);
  const ours = options.ours ?? 'all';
  const names = ours === 'all' ? Object.keys(ownPlugins) : ours === 'none' ? [] : [...ours];
  const entries: Entry[] = [];
  for (const name of names) {
    const own = ownPlugins[name];
    if (own === undefined) throw new BundleError(`--ours: "${name}" is not one of the project's plugins (${Object.keys(ownPlugins).join(', ')})`);
    const code =
      own.entry ??
      [
        `import { ${own.export} as plugin } from ${JSON.stringify(own.from)};`,
        "import { runBundled } from '@cni/bundle/runtime';",
        'export function run(io) {',
        '  return runBundled(plugin, io);',
        '}',
      ].join('\n');
    entries.push({ key: `own-${name}`, out: `plugins/${name}`, code: code.replaceAll("'@cni/bundle/runtime'", JSON.stringify(runtime)), resolveDir: packageRoot });
  }
  (options.plugins ?? []).forEach((argument, index) => {
    const equals = argument.lastIndexOf('=');
    const spec = equals > 0 ? argument.slice(0, equals) : argument;
    const named = equals > 0 ? argument.slice(equals + 1) : undefined;
    const target = isPath(spec) ? folderEntry(resolve(cwd, spec)) : spec;
    const code = [
      `import * as module from ${JSON.stringify(target)};`,
      `import { pickPlugin, runBundled } from ${JSON.stringify(runtime)};`,
      `export const plugin = pickPlugin(module, ${JSON.stringify(spec)});`,
      'export function run(io) {',
      '  return runBundled(plugin, io);',
      '}',
    ].join('\n');
    entries.push({ key: `user-${index}`, out: `user/${index}`, code, resolveDir: cwd, user: named === undefined ? { spec } : { spec, name: named } });
  });
  return entries;
}

const isPath = (spec: string) => spec.startsWith('.') || isAbsolute(spec);

/**
 * The module a plugin folder names: its package.json's `exports["."]` (the `import` or `default`
 * condition), `module` or `main`, else `src/index.ts` or `index.js`.
 */
function folderEntry(folder: string): string {
  if (!existsSync(folder)) throw new BundleError(`plugin folder ${folder} does not exist`);
  if (statSync(folder).isFile()) return folder;
  const candidates: string[] = [];
  const manifestPath = join(folder, 'package.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports?: unknown; module?: unknown; main?: unknown };
    const fromExports = exportTarget(manifest.exports);
    if (fromExports) candidates.push(fromExports);
    for (const field of [manifest.module, manifest.main]) if (typeof field === 'string') candidates.push(field);
  }
  candidates.push('src/index.ts', 'index.ts', 'index.js', 'index.mjs');
  for (const candidate of candidates) {
    const file = join(folder, candidate);
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  throw new BundleError(`plugin folder ${folder}: no entry module (package.json "exports", "module" or "main", or src/index.ts)`);
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  const dot = '.' in map ? map['.'] : map;
  if (typeof dot === 'string') return dot;
  if (typeof dot !== 'object' || dot === null) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const found = exportTarget((dot as Record<string, unknown>)[condition]);
    if (found) return found;
  }
  return undefined;
}

/** One esbuild run for every entry: a CommonJS file each, the libraries inlined, ffi-rs left to the payload. */
async function bundleEntries(entries: readonly Entry[], outdir: string, version: string, conditions: readonly string[]): Promise<void> {
  const { build } = await import('esbuild');
  const byKey = new Map(entries.map((entry) => [entry.key, entry]));
  const result = await build({
    entryPoints: Object.fromEntries(entries.map((entry) => [entry.out, `cni-entry:${entry.key}`])),
    outdir,
    bundle: true,
    // CommonJS: require() of a plugin's file from another (in-process delegation) is synchronous
    // and cheap, and a payload folder has no package.json to say its files are modules.
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    conditions: [...conditions],
    // ffi-rs loads a native addon esbuild cannot bundle: it is required at run time from the
    // payload's node_modules.
    external: ['ffi-rs'],
    define: {
      __CNI_VERSION__: JSON.stringify(version),
      // The libraries use import.meta.url only for createRequire(), which takes a path as well;
      // a URL built at load time would cost milliseconds of every start.
      'import.meta.url': '__filename',
    },
    // ESM sources are strict code: the CommonJS output says so, as Node would run them.
    banner: { js: '"use strict";' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'cni-entries',
        setup(builder) {
          builder.onResolve({ filter: /^cni-entry:/ }, (args) => ({ path: args.path.slice('cni-entry:'.length), namespace: 'cni-entry' }));
          builder.onLoad({ filter: /.*/, namespace: 'cni-entry' }, (args) => {
            const entry = byKey.get(args.path)!;
            return { contents: entry.code, resolveDir: entry.resolveDir, loader: 'js' };
          });
        },
      },
    ],
  }).catch((error: unknown) => {
    const errors = (error as { errors?: { text: string; location?: { file: string } | null }[] }).errors;
    if (!errors) throw error;
    throw new BundleError(`bundling failed:\n${errors.map((e) => `  ${e.location?.file ? `${e.location.file}: ` : ''}${e.text}`).join('\n')}`);
  });
  if (result.errors.length > 0) throw new BundleError(result.errors.map((e) => e.text).join('\n'));
}

/**
 * Moves each user plugin's file to `plugins/<name>.cjs`: the name asked for, else the plugin
 * value's own (read by loading the file, which only defines the value). Returns every name.
 */
function nameEntries(entries: readonly Entry[], built: string): string[] {
  const names = new Map<string, string>();
  for (const entry of entries) {
    if (entry.user === undefined) {
      names.set(entry.out.slice('plugins/'.length), 'the project');
      continue;
    }
    const file = join(built, `${entry.out}.cjs`);
    let name = entry.user.name;
    if (name === undefined) {
      let loaded: { plugin?: { name?: unknown } };
      try {
        loaded = createRequire(file)(file) as typeof loaded;
      } catch (error) {
        throw new BundleError(`${entry.user.spec}: ${error instanceof Error ? error.message : String(error)}`);
      }
      name = typeof loaded.plugin?.name === 'string' ? loaded.plugin.name : '';
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name === 'cni-bundle' || name === 'cni-bundle-worker') {
      throw new BundleError(`${entry.user.spec}: "${name}" cannot name an executable`);
    }
    const clash = names.get(name);
    if (clash !== undefined) {
      throw new BundleError(`${entry.user.spec}: the name "${name}" is taken by ${clash}${clash === 'the project' ? `: leave ours out (--ours without ${name}) or name yours (${entry.user.spec}=<name>)` : ''}`);
    }
    names.set(name, entry.user.spec);
    renameSync(file, join(built, 'plugins', `${name}.cjs`));
  }
  rmSync(join(built, 'user'), { recursive: true, force: true });
  return [...names.keys()].sort();
}

/**
 * Node's built-in modules, other than those every start loads anyway, are required when first
 * used instead of when the file loads: esbuild hoists every `import` of every library to the top
 * of the file, so a plugin that never starts a process would still load child_process, net and
 * streams (about 10 ms). Named imports become `import_x.name` at each use, which the proxy
 * forwards to the module, loaded on first use.
 */
export function lazyBuiltins(source: string): string {
  const eager = new Set(['fs', 'path', 'module']);
  let count = 0;
  // `var import_x = require("x");` at the top, and `import_x = require("x");` inside the init
  // functions esbuild wraps lazily evaluated modules in.
  const rewritten = source.replace(/^(\s*)(var )?(import_\w+) = require\("(?:node:)?([a-z_/]+)"\);$/gm, (line, indent: string, declare: string | undefined, name: string, id: string) => {
    if (eager.has(id)) return line;
    count++;
    return `${indent}${declare ?? ''}${name} = __cniLazyBuiltin(${JSON.stringify(`node:${id}`)});`;
  });
  if (count === 0) return source;
  const helper =
    'var __cniLazyBuiltin = (id) => { let m; const load = () => (m ??= require(id)); return new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; } }); };\n';
  return rewritten.replace(/^("use strict";\n)?/, (strict) => `${strict}${helper}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The pinned Node runtime of `arch` from the npm registry, integrity checked, with RUNPATH $ORIGIN/lib. */
function nodeRuntime(arch: BundleArch, cache: string): { dir: string; version: string } {
  const pins = JSON.parse(readFileSync(join(packageRoot, 'runtime.json'), 'utf8')) as RuntimePin;
  const pin = pins[`linux-${arch}`];
  if (pin === undefined) throw new BundleError(`runtime.json pins no runtime for linux-${arch}`);
  const dir = join(cache, `${pin.package}-${pins.version}`);
  if (existsSync(join(dir, 'node'))) return { dir, version: pins.version };
  mkdirSync(cache, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', `${pin.package}@${pins.version}`, '--pack-destination', cache, '--json', '--silent'], { cwd: cache })) as { filename: string }[];
  const tarball = join(cache, packed[0]!.filename);
  const [algorithm, expected] = pin.integrity.split(/-(.*)/s) as [string, string];
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
  if (actual !== expected) throw new BundleError(`${tarball}: integrity ${algorithm}-${actual}, runtime.json pins ${pin.integrity}`);
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
  return { dir, version: pins.version };
}

/**
 * The folder of ffi-rs' glibc addon for the target: the one installed beside ffi-rs (this
 * machine's), else the same version from the npm registry (npm pack checks its integrity).
 */
function ffiAddon(ffiDir: string, addonName: string, version: string, cache: string): string {
  try {
    return dirname(createRequire(join(ffiDir, 'package.json')).resolve(`${addonName}/package.json`));
  } catch {
    const dir = join(cache, `${addonName.replace('/', '+')}-${version}`);
    if (existsSync(join(dir, 'package.json'))) return dir;
    mkdirSync(cache, { recursive: true });
    const packed = JSON.parse(run('npm', ['pack', `${addonName}@${version}`, '--pack-destination', cache, '--json', '--silent'], { cwd: cache })) as { filename: string }[];
    const tarball = join(cache, packed[0]!.filename);
    const staging = `${dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1']);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    rmSync(tarball, { force: true });
    return dir;
  }
}

interface About {
  version: string;
  node: string;
  id: string;
  arch: BundleArch;
  plugins: string[];
}

/**
 * The payload: the prebuilt launcher, dispatcher, tool and worker of this package, the plugins'
 * files with their code caches, the runtime, ffi-rs and the shared libraries nothing on the host
 * has to provide.
 */
async function assemble(args: { built: string; payload: string; plugins: string[]; arch: BundleArch; version: string; cacheDir: string; log: (line: string) => void }): Promise<About> {
  const { built, payload, plugins, arch, version } = args;
  const prebuilt = join(packageRoot, 'dist', 'prebuilt', `linux-${arch}`);
  rmSync(payload, { recursive: true, force: true });
  mkdirSync(payload, { recursive: true });
  cpSync(join(packageRoot, 'dist', 'payload'), payload, { recursive: true });
  cpSync(join(built, 'plugins'), join(payload, 'plugins'), { recursive: true });
  const scripts = ['main.cjs', 'tool.cjs', 'worker.cjs', ...plugins.map((name) => `plugins/${name}.cjs`)].map((file) => join(payload, file));
  for (const file of scripts) writeFileSync(file, lazyBuiltins(readFileSync(file, 'utf8')));

  // The launcher and the C++ runtime and libnl, built and copied when this package was packed.
  copyFileSync(join(prebuilt, 'cni-bundle'), join(payload, 'cni-bundle'));
  chmodSync(join(payload, 'cni-bundle'), 0o755);
  cpSync(join(prebuilt, 'lib'), join(payload, 'lib'), { recursive: true });
  cpSync(join(prebuilt, 'licenses'), join(payload, 'licenses'), { recursive: true });

  args.log(`runtime: node ${arch}`);
  const node = nodeRuntime(arch, args.cacheDir);
  copyFileSync(join(node.dir, 'node'), join(payload, 'node'));
  chmodSync(join(payload, 'node'), 0o755);
  copyFileSync(join(node.dir, 'LICENSE'), join(payload, 'licenses', 'node.LICENSE'));

  // ffi-rs: its entry point and the glibc addon of the target, where Node's resolution from plugins/ finds them.
  const requireHere = createRequire(join(packageRoot, 'package.json'));
  const ffiDir = dirname(requireHere.resolve('ffi-rs/package.json'));
  const addonName = `@yuuang/ffi-rs-linux-${arch}-gnu`;
  const ffiManifest = JSON.parse(readFileSync(join(ffiDir, 'package.json'), 'utf8')) as { main?: string; version: string };
  const addonDir = ffiAddon(ffiDir, addonName, ffiManifest.version, args.cacheDir);
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
  // Only the target's own runtime makes caches it accepts: a bundle of another architecture
  // has none, and compiles each plugin's file when it starts.
  if (arch === hostArch()) {
    args.log('code caches');
    run(join(payload, 'node'), [join(packageRoot, 'assets', 'code-cache.cjs'), ...scripts.slice(1)], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  } else {
    args.log(`no code caches: a linux-${arch} runtime cannot run here`);
  }

  // The payload's identity: the bundle's version and a hash of everything in it.
  const hash = createHash('sha256');
  for (const file of filesUnder(payload)) {
    hash.update(relative(payload, file));
    hash.update(file === join(payload, 'node') ? `node ${node.version} ${statSync(file).size}` : readFileSync(file));
  }
  const about: About = { version, node: `v${node.version}`, id: `${version}-${hash.digest('hex').slice(0, 12)}`, arch, plugins };
  writeFileSync(join(payload, 'about.json'), `${JSON.stringify(about, null, 2)}\n`);
  return about;
}
