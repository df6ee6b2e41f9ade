#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The VM tier: runs *.vm.test.ts files inside Debian's linux-image-cloud-amd64 kernel under
// qemu-system-x86_64 -accel tcg, because the host kernel lacks ipvlan, 8021q, vrf, bonding and
// dummy and cannot load modules. The kernel has no 9p: everything travels in the initramfs.
//
// usage: node packages/testkit/vm/run-vm-tier.mjs [test files...]   (from the workspace root)
//   no files: every *.vm.test.ts of the workspace.
//   env CNI_VM_TIMEOUT_S (whole VM, default 540), CNI_VM_TEST_TIMEOUT_MS (one test, default 120000),
//       CNI_VM_SMP (vCPUs, default 1), CNI_VM_MEMORY_MB (default 2048), CNI_VM_EXTERNALS (extra
//       packages kept out of the bundles, comma separated), CNI_VM_KEEP_STAGE=1 (keep staging folders),
//       CNI_VM_RUNNER=vitest (run vitest itself in the VM over the whole workspace: for measuring).
//
// The image is two concatenated newc archives, each cached in .vm-cache/ by a hash of its inputs:
// the base (busybox, kernel modules with their dependencies, node, iproute2, nft, libnl and the
// libraries they link) and the tests (each test file bundled by esbuild with vitest-shim.mjs in
// place of 'vitest', packages with native code copied beside them, and run-tests.mjs).
// Results go to .tier-results/vm.json for the per-tier table.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { buildNetdevsim } from './netdevsim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const cacheDir = join(root, '.vm-cache');
const resultsDir = join(root, '.tier-results');
const t0 = Date.now();
const log = (message) => console.log(`[vm] ${message}`);

/** Kernel modules the VM tests use; their dependencies come from modules.dep. */
const MODULES = [
  'dummy', 'veth', 'bridge', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap', '8021q', 'vrf', 'bonding', 'tun', 'vxlan', 'ifb',
  'sch_htb', 'sch_tbf', 'sch_ingress', 'cls_u32', 'act_mirred',
  'nf_tables', 'nft_chain_nat', 'nft_nat', 'nft_masq', 'nft_ct', 'nft_fib_inet', 'nft_compat', 'nf_conntrack',
];
/** Programs the tests call, found on the host and copied with the libraries they link. */
const PROGRAMS = ['busybox', 'node', 'ip', 'tc', 'bridge', 'nft', 'dnsmasq'];
/** Libraries loaded at run time (dlopen) rather than linked: libnl for @cni/netlink. */
const DLOPEN_LIBS = ['libnl-3.so.200', 'libnl-route-3.so.200'];
/** Packages whose code cannot be bundled (native addons): copied into the image instead. */
const EXTERNALS = ['ffi-rs', ...(process.env.CNI_VM_EXTERNALS ?? '').split(',').filter(Boolean)];
const APT_PACKAGES = { 'qemu-system-x86': 'qemu-system-x86_64', 'linux-image-cloud-amd64': null, 'busybox-static': null, cpio: 'cpio' };

function fail(message) {
  console.error(`[vm] ${message}`);
  writeResults({ passed: 0, failed: 1, skipped: 0, exitCode: 1, error: message });
  process.exit(1);
}

function writeResults(result) {
  if (hostMode) return;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'vm.json'), JSON.stringify({ tier: 'vm', canRun: true, reason: '', skippedTests: [], totalMs: Date.now() - t0, ...result }, null, 2));
}

function which(program) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin'])) {
    const candidate = join(dir, program);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function kernelVersion() {
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((file) => /^vmlinuz-.*-cloud-amd64$/.test(file)).sort() : [];
  const latest = kernels.at(-1);
  return latest?.slice('vmlinuz-'.length);
}

/** Installs what a fresh Debian machine lacks, as the CI script expects this command to do. */
function ensurePackages() {
  const missing = Object.keys(APT_PACKAGES).filter((pkg) => {
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return !status.stdout.includes('install ok installed');
  });
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (update.status !== 0 || install.status !== 0) fail(`failed to install ${missing.join(' ')} with apt-get`);
}

function findTests(args) {
  if (args.length > 0) {
    return args.map((file) => {
      const path = resolve(file);
      if (!existsSync(path)) fail(`no such test file "${file}"`);
      return path;
    });
  }
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.vm.test.ts')) found.push(path);
    }
  };
  for (const top of ['packages', 'apps', 'integration']) if (existsSync(join(root, top))) walk(join(root, top));
  return found.sort();
}

// ---------------------------------------------------------------- base image

/** Host path → the path it has in the image, where /lib, /bin, /sbin, /lib64 are links into /usr. */
function imagePath(path) {
  return path.replace(/^\/(lib|lib64|bin|sbin)\//, '/usr/$1/');
}

function linkedLibraries(binary) {
  const out = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (out.status !== 0) return []; // static (busybox)
  const libs = [];
  for (const line of out.stdout.split('\n')) {
    const match = line.match(/=>\s+(\/\S+)/) ?? line.match(/^\s+(\/\S+)\s+\(/);
    if (match?.[1]) libs.push(match[1]);
  }
  return libs;
}

function moduleOrder(version, extra = []) {
  const base = `/lib/modules/${version}`;
  const deps = new Map();
  for (const line of readFileSync(`${base}/modules.dep`, 'utf8').split('\n')) {
    const [module, rest] = line.split(':');
    if (module) deps.set(module, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((path) => [path.split('/').at(-1).replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_'), path]));
  const builtin = new Set(
    readFileSync(`${base}/modules.builtin`, 'utf8').split('\n').map((path) => path.split('/').at(-1).replace(/\.ko$/, '').replaceAll('-', '_')),
  );
  const order = [];
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const dep of deps.get(path) ?? []) visit(dep);
    order.push(path);
  };
  for (const name of [...MODULES, ...extra]) {
    const path = byName.get(name.replaceAll('-', '_'));
    if (path) visit(path);
    else if (!builtin.has(name)) log(`warning: module ${name} is not in ${base}`);
  }
  return order.map((path) => ({ host: `${base}/${path}`, image: `${version}/${path}` }));
}

function baseInputs(version) {
  const files = new Map(); // image path → host path
  const add = (host) => files.set(imagePath(host), host);
  for (const program of PROGRAMS) {
    const path = program === 'busybox' ? ['/usr/bin/busybox', '/bin/busybox'].find(existsSync) : which(program);
    if (!path) {
      if (program === 'nft') continue;
      fail(`failed to find "${program}" on this machine`);
    }
    add(path);
    for (const lib of linkedLibraries(path)) add(lib);
  }
  for (const name of DLOPEN_LIBS) {
    const path = `/usr/lib/x86_64-linux-gnu/${name}`;
    if (!existsSync(path)) {
      log(`warning: ${name} is not installed (apt-get install libnl-3-200 libnl-route-3-200)`);
      continue;
    }
    add(path);
    for (const lib of linkedLibraries(path)) add(lib);
  }
  // nft loads its JSON support and libnftables by linking; iproute2 reads these at start.
  for (const extra of ['/etc/iproute2', '/usr/share/iproute2']) if (existsSync(extra)) files.set(extra, extra);
  // napi-rs loaders (rolldown, under vitest) read /usr/bin/ldd to tell glibc from musl.
  if (existsSync('/usr/bin/ldd')) add('/usr/bin/ldd');
  // netdevsim (SR-IOV VFs for the sriov tests) is built out of tree and loaded after its dependencies.
  const netdevsim = buildNetdevsim(version, cacheDir, log);
  const modules = moduleOrder(version, netdevsim?.depends ?? []);
  if (netdevsim) modules.push({ host: netdevsim.path, image: `${version}/extra/netdevsim.ko` });
  for (const module of modules) files.set(`/lib/modules/${module.image}`, module.host);
  return { files, modules };
}

function hashOf(parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function statKey(path) {
  const stat = statSync(path);
  return `${path}:${stat.size}:${stat.mtimeMs}`;
}

function writeCpio(stage, output) {
  // newc with root ownership; the kernel unpacks it into its rootfs.
  const list = spawnSync('find', ['.', '-mindepth', '1', '-print0'], { cwd: stage, maxBuffer: 1 << 28 });
  const out = spawnSync('cpio', ['--null', '--create', '--format=newc', '--owner=0:0', '--quiet', `--file=${output}.tmp`], {
    cwd: stage,
    input: list.stdout,
    maxBuffer: 1 << 28,
  });
  if (out.status !== 0) fail(`failed to write "${output}": ${out.stderr}`);
  renameSync(`${output}.tmp`, output);
}

function buildBase(version) {
  const { files, modules } = baseInputs(version);
  const initScript = readFileSync(join(here, 'init.sh'), 'utf8');
  const keys = [...files].sort().map(([image, host]) => `${image}=${statSync(host).isDirectory() ? host : statKey(host)}`);
  const hash = hashOf(['base-v1', initScript, ...keys, modules.map((m) => m.image).join(',')]);
  const archive = join(cacheDir, `base-${hash}.cpio`);
  if (existsSync(archive)) return { archive, cached: true };

  const stage = join(cacheDir, `stage-base-${hash}`);
  rmSync(stage, { recursive: true, force: true });
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'proc', 'sys', 'dev', 'run', 'tmp', 'root', 'etc/cni-vm', 'var', 'work']) {
    mkdirSync(join(stage, dir), { recursive: true });
  }
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${link}`, join(stage, link));
  symlinkSync('../run', join(stage, 'var/run'));
  for (const [image, host] of files) {
    const target = join(stage, image);
    mkdirSync(dirname(target), { recursive: true });
    if (statSync(host).isDirectory()) cpSync(host, target, { recursive: true, dereference: true });
    else copyFileSync(host, target);
  }
  // busybox applets for everything the host did not provide (ip, tc and nft stay the real ones).
  const busybox = '/usr/bin/busybox';
  for (const applet of execFileSync(join(stage, busybox.slice(1)), ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    const target = join(stage, imagePath(`/${applet}`));
    if (!existsSync(target)) {
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(busybox, target);
    }
  }
  writeFileSync(join(stage, 'init'), initScript);
  chmodSync(join(stage, 'init'), 0o755);
  writeFileSync(join(stage, 'etc/cni-vm/modules'), modules.map((m) => m.image).join('\n') + '\n');
  writeFileSync(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(stage, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(stage, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  if (existsSync('/etc/ld.so.cache')) copyFileSync('/etc/ld.so.cache', join(stage, 'etc/ld.so.cache'));
  writeCpio(stage, archive);
  if (!process.env.CNI_VM_KEEP_STAGE) rmSync(stage, { recursive: true, force: true });
  return { archive, cached: false };
}

// ---------------------------------------------------------------- tests archive

/** The command the VM runs, as a script: the light runner over bundles, or vitest itself. */
function runScript(lines) {
  return ['set -u', 'cd /work/main', ...lines].join('\n') + '\n';
}

async function stageTests(tests, runner) {
  const stage = join(cacheDir, `stage-tests-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  const work = join(stage, 'work/main');
  mkdirSync(work, { recursive: true });
  mkdirSync(join(stage, 'etc/cni-vm'), { recursive: true });
  if (runner === 'vitest') stageWorkspace(tests, stage, work);
  else await stageBundles(tests, stage, work);
  // Built executables the tests may run (apps/*/dist: cni-bundle's dist/bin), links kept as links:
  // the bundle's plugin names are links to one launcher that finds its runtime beside it. Not the
  // tarball, the build's scratch folders, nor a payload no link points to (the one install keeps).
  if (runner !== 'vitest' && existsSync(join(root, 'apps'))) {
    for (const app of readdirSync(join(root, 'apps'))) {
      const dist = join(root, 'apps', app, 'dist');
      if (!existsSync(dist)) continue;
      const linked = new Set();
      if (existsSync(join(dist, 'bin'))) {
        for (const entry of readdirSync(join(dist, 'bin'), { withFileTypes: true })) {
          if (entry.isSymbolicLink()) linked.add(readlinkSync(join(dist, 'bin', entry.name)).split('/')[0]);
        }
      }
      cpSync(dist, join(work, 'apps', app, 'dist'), {
        recursive: true,
        verbatimSymlinks: true,
        filter: (source) => {
          const path = relative(dist, source);
          if (path.endsWith('.tar.gz') || /^\.(js(-\d+)?|payload-[^/]*|staging-[^/]*)(\/|$)/.test(path)) return false;
          const payload = /^bin\/(\.cni-bundle-[^/]+)/.exec(path)?.[1];
          return payload === undefined || linked.has(payload);
        },
      });
    }
  }
  copyNativeLibraries(stage);
  const hash = hashOf([`tests-v1-${runner}`, ...listFiles(stage).map((file) => `${relative(stage, file)}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`)]);
  const archive = join(cacheDir, `tests-${hash}.cpio`);
  const cached = existsSync(archive);
  if (!cached) writeCpio(stage, archive);
  if (!process.env.CNI_VM_KEEP_STAGE) rmSync(stage, { recursive: true, force: true });
  return { archive, cached };
}

/**
 * Native code in the tests archive (addons, built executables) may link libraries the base lacks
 * (librt...): copy those beside it. Files are recognised by their ELF magic, not their names.
 */
function copyNativeLibraries(stage) {
  for (const file of listFiles(stage)) {
    if (!isElf(file)) continue;
    for (const lib of linkedLibraries(file)) {
      const target = join(stage, imagePath(lib));
      if (!existsSync(target)) {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(lib, target);
      }
    }
  }
}

function isElf(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

/**
 * Files a test reads beside its sources (fixtures, testdata, .conflist files): every file of the
 * test's package that is not TypeScript, documentation or a dependency.
 */
function copyPackageData(tests, work) {
  const packages = new Set();
  for (const test of tests) {
    let dir = dirname(test);
    while (dir !== root && !existsSync(join(dir, 'package.json'))) dir = dirname(dir);
    if (dir !== root) packages.add(dir);
  }
  for (const dir of packages) {
    cpSync(dir, join(work, relative(root, dir)), {
      recursive: true,
      dereference: true,
      filter: (source) => {
        const name = source.split('/').at(-1) ?? '';
        if (['node_modules', 'dist', '.turbo', 'vm'].includes(name) && source !== dir) return false;
        return !/\.(ts|tsx|mts|cts|md|tsbuildinfo)$/.test(name) || statSync(source).isDirectory();
      },
    });
  }
}

/**
 * For measuring vitest itself in the VM (CNI_VM_RUNNER=vitest): the whole workspace with its
 * node_modules, pnpm's relative links kept as they are.
 */
function stageWorkspace(tests, stage, work) {
  const skip = new Set(['.git', '.vm-cache', '.tier-results', '.turbo', 'bench']);
  for (const entry of readdirSync(root)) {
    if (skip.has(entry)) continue;
    cpSync(join(root, entry), join(work, entry), { recursive: true, verbatimSymlinks: true });
  }
  const files = tests.map((test) => relative(root, test));
  writeFileSync(
    join(stage, 'etc/cni-vm/run'),
    runScript([
      `CNI_TIER=vm node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=/tmp/vitest.json ${files.join(' ')}`,
      'status=$?',
      `node -e 'const r = JSON.parse(require("fs").readFileSync("/tmp/vitest.json", "utf8")); console.log("CNI-VM-RESULT " + JSON.stringify({ passed: r.numPassedTests, failed: r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0), skipped: r.numPendingTests + r.numTodoTests }))'`,
      'exit $status',
    ]),
  );
}

/** The light runner: each test file bundled by esbuild with vitest-shim.mjs in place of vitest. */
async function stageBundles(tests, stage, work) {
  const require = createRequire(join(here, 'run-vm-tier.mjs'));
  const esbuild = await import(require.resolve('esbuild'));
  const externalUses = new Map(); // package → a file that imports it
  const result = await esbuild.build({
    entryPoints: tests,
    outbase: root,
    outdir: work,
    entryNames: '[dir]/[name].vm-bundle',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@cni/source'],
    alias: { vitest: join(here, 'vitest-shim.mjs') },
    external: [...EXTERNALS, '*.node'],
    // CommonJS dependencies inside an ES module bundle still call require.
    banner: { js: "import { createRequire as __cniCreateRequire } from 'node:module'; const require = __cniCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  }).catch((error) => fail(`failed to bundle the VM tests: ${error.message}`));
  for (const [input, info] of Object.entries(result.metafile.inputs)) {
    for (const imported of info.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const name = imported.path.startsWith('@') ? imported.path.split('/').slice(0, 2).join('/') : imported.path.split('/')[0];
      if (EXTERNALS.includes(name)) externalUses.set(name, join(root, input));
    }
  }
  // A native package is copied with its pnpm siblings (its dependencies and platform binaries).
  for (const [name, importer] of externalUses) {
    let dir = dirname(createRequire(importer).resolve(name));
    while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
      if (dir === '/') fail(`failed to find the folder of package "${name}"`);
      dir = dirname(dir);
    }
    const real = realpathSync(dir);
    const siblings = name.startsWith('@') ? dirname(dirname(real)) : dirname(real);
    cpSync(siblings, join(work, 'node_modules'), { recursive: true, dereference: true });
  }
  copyPackageData(tests, work);
  // The reference plugins, when a test drives them (Go, static: no libraries to add).
  if (existsSync('/usr/lib/cni') && tests.some((test) => readFileSync(test, 'utf8').includes('/usr/lib/cni'))) {
    cpSync('/usr/lib/cni', join(stage, 'usr/lib/cni'), { recursive: true, dereference: true });
  }
  mkdirSync(join(work, 'packages/testkit/vm'), { recursive: true });
  copyFileSync(join(here, 'run-tests.mjs'), join(work, 'packages/testkit/vm/run-tests.mjs'));
  const bundles = tests.map((test) => `/work/main/${relative(root, test).replace(/\.ts$/, '.vm-bundle.mjs')}`);
  writeFileSync(join(stage, 'etc/cni-vm/run'), runScript([`exec node packages/testkit/vm/run-tests.mjs ${bundles.join(' ')}`]));
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

// ---------------------------------------------------------------- boot

function concatenate(parts, output) {
  const hash = hashOf(parts);
  const target = `${output}-${hash}.cpio`;
  if (!existsSync(target)) {
    const chunks = parts.map((part) => readFileSync(part));
    writeFileSync(`${target}.tmp`, Buffer.concat(chunks));
    renameSync(`${target}.tmp`, target);
  }
  return target;
}

function boot(version, initrd) {
  const timeoutS = Number(process.env.CNI_VM_TIMEOUT_S ?? 540);
  const args = [
    '-accel', 'tcg,thread=multi',
    '-cpu', 'max',
    // One vCPU: measured faster than two when the host tiers run beside the VM on a 2-core machine.
    '-smp', process.env.CNI_VM_SMP ?? '1',
    '-m', process.env.CNI_VM_MEMORY_MB ?? '2048',
    '-kernel', `/boot/vmlinuz-${version}`,
    '-initrd', initrd,
    '-append', `console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init cni.timeout=${Math.max(timeoutS - 30, 30)}`,
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-nic', 'none',
    '-no-reboot',
  ];
  log(`booting ${version}: qemu-system-x86_64 ${args.join(' ')}`);
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const state = { result: undefined, exit: undefined, bootedAt: undefined, modulesAt: undefined, timedOut: false };
    let pending = '';
    const decoder = new StringDecoder('utf8'); // a character may straddle two chunks
    const logFile = createWriteStream(join(resultsDir, 'vm-console.log'));
    qemu.stdout.on('data', (chunk) => {
      logFile.write(chunk);
      pending += decoder.write(chunk).replaceAll('\r', '');
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith('CNI-VM-RESULT ')) state.result = JSON.parse(line.slice('CNI-VM-RESULT '.length));
        else if (line.startsWith('CNI-VM-EXIT ')) state.exit = Number(line.split(' ')[1]);
        else if (line.startsWith('CNI-VM-BOOTED ')) state.bootedAt = Date.now() - started;
        else if (line.startsWith('CNI-VM-MODULES ')) state.modulesAt = Date.now() - started;
        else if (!/^\[\s*[\d.]+\] reboot: Power down$/.test(line)) process.stdout.write(`${line}\n`);
      }
    });
    // A hung VM is killed: the tier fails instead of blocking CI.
    const timer = setTimeout(() => {
      state.timedOut = true;
      log(`the VM did not finish in ${timeoutS}s: killing it`);
      qemu.kill('SIGKILL');
    }, timeoutS * 1000);
    const stop = () => qemu.kill('SIGKILL');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    qemu.on('close', (code) => {
      clearTimeout(timer);
      logFile.end();
      if (pending) process.stdout.write(`${pending}\n`);
      resolvePromise({ ...state, qemuExit: code, ms: Date.now() - started });
    });
  });
}

// ---------------------------------------------------------------- main

const hostMode = process.argv.includes('--host');
// Test files are named relative to where the command was started, before it moves to the root.
const args = process.argv.slice(2).filter((arg) => arg !== '--host').map((arg) => (arg.startsWith('--') ? arg : resolve(arg)));
if (args.includes('--help')) {
  console.log('usage: node packages/testkit/vm/run-vm-tier.mjs [--host] [test files...]');
  process.exit(0);
}
process.chdir(root);

if (hostMode) {
  // The same bundles and runner on this machine's kernel, without qemu: for working on the runner
  // and its shim (the unit test of vitest-shim.mjs uses it). Writes no tier results.
  const tests = findTests(args);
  const stage = mkdtempSync(join(tmpdir(), 'cni-vm-host-'));
  const work = join(stage, 'work/main');
  mkdirSync(join(stage, 'etc/cni-vm'), { recursive: true });
  mkdirSync(work, { recursive: true });
  await stageBundles(tests, stage, work);
  const bundles = tests.map((test) => join(work, relative(root, test).replace(/\.ts$/, '.vm-bundle.mjs')));
  const child = spawnSync(process.execPath, [join(here, 'run-tests.mjs'), ...bundles], { stdio: 'inherit', cwd: root });
  rmSync(stage, { recursive: true, force: true });
  process.exit(child.status ?? 1);
}
ensurePackages();
const version = kernelVersion();
if (!version) fail('no linux-image-cloud-amd64 kernel in /boot');
if (!which('qemu-system-x86_64')) fail('qemu-system-x86_64 is not installed');
mkdirSync(cacheDir, { recursive: true });
mkdirSync(resultsDir, { recursive: true });

const tests = findTests(args);
if (tests.length === 0) {
  log('no *.vm.test.ts files');
  writeResults({ passed: 0, failed: 0, skipped: 0, exitCode: 0 });
  process.exit(0);
}
log(`${tests.length} test file(s): ${tests.map((test) => relative(root, test)).join(' ')}`);

const buildStarted = Date.now();
const base = buildBase(version);
const runner = process.env.CNI_VM_RUNNER === 'vitest' ? 'vitest' : 'light';
const bundled = await stageTests(tests, runner);
const initrd = concatenate([base.archive, bundled.archive], join(cacheDir, 'initrd'));
const buildMs = Date.now() - buildStarted;
// Old images are 100 MB and more each: keep only the ones this run uses.
for (const file of readdirSync(cacheDir)) {
  const path = join(cacheDir, file);
  if (file.endsWith('.cpio') && ![base.archive, bundled.archive, initrd].includes(path)) rmSync(path, { force: true });
}
log(`image ${relative(root, initrd)} (${(statSync(initrd).size / 1e6).toFixed(0)} MB, runner ${runner}; base ${base.cached ? 'cached' : 'built'}, tests ${bundled.cached ? 'cached' : 'built'}) in ${buildMs}ms`);

const run = await boot(version, initrd);
const timing = { buildMs, bootMs: run.bootedAt, modulesMs: run.modulesAt, vmMs: run.ms };
log(`VM ran ${run.ms}ms (kernel to /init ${run.bootedAt ?? '?'}ms, modules loaded at ${run.modulesAt ?? '?'}ms), total ${Date.now() - t0}ms`);

if (run.timedOut || run.exit === undefined || run.result === undefined) {
  const why = run.timedOut ? 'timed out' : `ended without a result (qemu exit ${run.qemuExit})`;
  writeResults({ ...(run.result ?? { passed: 0, skipped: 0 }), failed: Math.max(1, run.result?.failed ?? 0), exitCode: 1, error: `the VM ${why}`, ...timing });
  fail(`the VM ${why}; console log in .tier-results/vm-console.log`);
}
const exitCode = run.exit === 0 && run.result.failed === 0 ? 0 : 1;
writeResults({ ...run.result, failed: run.result.failed + (run.exit !== 0 && run.result.failed === 0 ? 1 : 0), exitCode, ...timing });
process.exit(exitCode);
