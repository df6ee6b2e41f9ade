// SPDX-License-Identifier: Apache-2.0
// What the side-by-side benchmarks share: the two folders of executables, a host network namespace
// made for the run (the driver re-executes itself inside it, so no plugin run pays `ip netns exec`),
// plugin runs with a runtime-like environment, a chain driver after libcni, statistics and the table.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { constants, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's root folder. */
export const ROOT = join(here, '..', '..');
/** Our executables (CNI_BUNDLE_BIN points at another copy, e.g. one kept away from rebuilds). */
export const OURS_BIN = process.env.CNI_BUNDLE_BIN ?? join(ROOT, 'apps', 'cni-bundle', 'dist', 'bin');
/** Where our executables come from (the run may use a copy, see snapshotBundle), for titles and results. */
export const OURS_SOURCE = process.env.CNI_BENCH_BUNDLE_SOURCE ?? OURS_BIN;
/** Debian's containernetworking-plugins: the Go reference. */
export const REFERENCE_BIN = process.env.CNI_REFERENCE_BIN ?? '/usr/lib/cni';
/** A folder as the table names it: relative to the repository when inside it. */
export function shown(path) {
  const inside = relative(ROOT, path);
  return inside.startsWith('..') ? path : inside;
}
/** The two sides, in the order of the table. */
export const SIDES = [
  { key: 'ours', tag: 'o', bin: OURS_BIN },
  { key: 'reference', tag: 'r', bin: REFERENCE_BIN },
];
/** PATH of every plugin run: what a runtime on Debian passes, and nothing of this shell. */
export const PLUGIN_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const INNER = '--inner';

/** Median, p90 (nearest rank) and count of a list of numbers. */
export function stats(values) {
  if (values.length === 0) return { median: null, p90: null, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { median: round(median), p90: round(sorted[Math.ceil(sorted.length * 0.9) - 1]), n: sorted.length };
}

/** Two decimals are more than the noise of these figures allows. */
export function round(value) {
  return value === null || value === undefined ? value : Math.round(value * 100) / 100;
}

function ip(args, options = {}) {
  const out = spawnSync('ip', args, { encoding: 'utf8', ...options });
  if (out.status !== 0 && !options.allowFailure) throw new Error(`ip ${args.join(' ')} failed: ${out.stderr.trim()}`);
  return out;
}

/** Runs many `ip` commands in one process (`ip -batch -`), for set-up and teardown that is not timed. */
export function ipBatch(lines, { allowFailure = false } = {}) {
  if (lines.length === 0) return;
  ip(['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, allowFailure });
}

function ourNamespaces(prefix) {
  try {
    return readdirSync('/run/netns').filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
}

/**
 * Called first by a benchmark script. Outside, it makes the host namespace and a temporary folder,
 * runs the script again inside the namespace, and removes everything afterwards, also after a failure,
 * Ctrl-C or a killed driver; it then ends the process with the driver's status and returns nothing.
 * Inside, it returns the run's context.
 */
export async function hostNamespace(scriptUrl, name) {
  const at = process.argv.indexOf(INNER);
  if (at >= 0) {
    const [prefix, dir] = process.argv.slice(at + 1, at + 3);
    const args = process.argv.slice(2, at);
    // `ip netns exec` gave the driver a mount namespace whose mounts do not reach the host's: pod
    // namespaces named in a tmpfs over /run/netns are seen by the driver and its plugins only, and go
    // away with the driver however it ends.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'cni-bench', '/run/netns'], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`failed to mount a tmpfs on "/run/netns": ${mounted.stderr.trim()}`);
    return { prefix, host: `${prefix}host`, dir, args, podNs: (id) => `${prefix}${id}` };
  }
  if (process.getuid?.() !== 0) {
    console.error(`bench/${name}: needs root (it makes network namespaces)`);
    process.exit(2);
  }
  // Short: pod namespaces carry it too, and the bridges' names are made from the side and test alone.
  const prefix = `cnib${randomBytes(2).toString('hex')}-`;
  const host = `${prefix}host`;
  const dir = mkdtempSync(join(tmpdir(), `cni-bench-${name}-`));
  let interrupted = false;
  const onSignal = (signal) => {
    interrupted = true;
    // A Ctrl-C reaches the driver through the terminal's process group; a plain kill of this process does not.
    child?.kill(signal);
  };
  let child;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let status = 1;
  try {
    ip(['netns', 'add', host]);
    ip(['-n', host, 'link', 'set', 'lo', 'up']);
    const snapshot = snapshotBundle(dir);
    const env = snapshot ? { ...process.env, CNI_BUNDLE_BIN: snapshot, CNI_BENCH_BUNDLE_SOURCE: OURS_BIN } : process.env;
    child = spawn('ip', ['netns', 'exec', host, process.execPath, fileURLToPath(scriptUrl), ...process.argv.slice(2), INNER, prefix, dir], {
      stdio: 'inherit',
      env,
    });
    status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0))));
  } finally {
    // Pod namespaces lived in the driver's mount namespace, gone with it. Links, iptables rules and
    // ifb devices all live in the host namespace and go with it.
    ipBatch(ourNamespaces(prefix).map((ns) => `netns del ${ns}`), { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(interrupted ? 130 : status);
}

/**
 * Copies the bundle's folder (the plugin links and the one folder they point into) to the run's folder,
 * so that a rebuild of dist/bin during a run (tsup cleans it) neither breaks nor mixes the figures. Only
 * the self-contained layout can move; the older one (scripts that load the workspace's node_modules) is
 * run where it is. CNI_BUNDLE_BIN, when set, is run where it is too.
 */
function snapshotBundle(dir) {
  if (process.env.CNI_BUNDLE_BIN || !existsSync(join(OURS_BIN, 'bridge')) || !lstatSync(join(OURS_BIN, 'bridge')).isSymbolicLink()) return undefined;
  const target = join(dir, 'ours-bin');
  mkdirSync(target);
  const entries = readdirSync(OURS_BIN);
  const linkedTo = new Set(
    entries.filter((name) => lstatSync(join(OURS_BIN, name)).isSymbolicLink()).map((name) => readlinkSync(join(OURS_BIN, name)).split('/')[0]),
  );
  const copied = entries.filter((name) => !name.startsWith('.') || linkedTo.has(name)).map((name) => join(OURS_BIN, name));
  const out = spawnSync('cp', ['-a', ...copied, target], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`failed to copy "${OURS_BIN}" to "${target}": ${out.stderr.trim()}`);
  return target;
}

/**
 * Checks, with iproute2 rather than our code, that the pod's interface holds the IPv4 address the
 * result names; used on warm-up rounds, so that a side that returns success without doing the work
 * cannot look fast.
 */
export function expectAddress(netns, ifname, result, who) {
  const want = result?.ips?.find((ip) => !ip.address.includes(':'))?.address;
  const out = ip(['-j', '-n', netns, 'addr', 'show', 'dev', ifname], { allowFailure: true });
  const have = out.status === 0 ? JSON.parse(out.stdout).flatMap((link) => link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)) : [];
  if (!want || !have.includes(want)) throw new Error(`${who}: "${ifname}" in "${netns}" has ${have.join(', ') || 'no IPv4 address'}, the result says ${want}`);
}

/** Makes pod namespaces (not timed). */
export function addNamespaces(names) {
  ipBatch(names.map((ns) => `netns add ${ns}`));
}

/** Removes pod namespaces (not timed). */
export function deleteNamespaces(names) {
  ipBatch(names.map((ns) => `netns del ${ns}`), { allowFailure: true });
}

/** Runs `ip` in the host namespace (the driver's own). */
export function hostIp(...args) {
  return ip(args);
}

function pluginEnv(side, request) {
  const env = { PATH: PLUGIN_PATH, CNI_COMMAND: request.command };
  if (request.command !== 'VERSION') {
    env.CNI_CONTAINERID = request.containerId;
    env.CNI_NETNS = `/run/netns/${request.netns}`;
    env.CNI_IFNAME = request.ifname ?? 'eth0';
    env.CNI_PATH = side.bin;
  }
  if (request.args) env.CNI_ARGS = request.args;
  return env;
}

function parseOutcome(side, type, request, out, ms) {
  if (out.status !== 0) {
    throw new Error(`${side.key} ${type} ${request.command} failed (exit ${out.status ?? out.signal}): ${`${out.stdout}${out.stderr}`.trim()}`);
  }
  const text = out.stdout.trim();
  return { ms, result: text ? JSON.parse(text) : undefined };
}

/** One plugin run, timed from spawn to exit: { ms, result }; throws on a non-zero exit. */
export function runPlugin(side, request) {
  const type = request.conf.type;
  const bin = join(side.bin, type);
  const input = JSON.stringify(request.conf);
  const env = pluginEnv(side, request);
  const t0 = performance.now();
  const out = spawnSync(bin, [], { input, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const ms = performance.now() - t0;
  return parseOutcome(side, type, request, out, ms);
}

/** One plugin run without blocking, for runs at the same time: resolves { ms, result, end }. */
export function runPluginAsync(side, request) {
  const type = request.conf.type;
  const bin = join(side.bin, type);
  const env = pluginEnv(side, request);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      const end = performance.now();
      try {
        resolve({ ...parseOutcome(side, type, request, { status, signal, stdout, stderr }, end - t0), end });
      } catch (error) {
        reject(error);
      }
    });
    // A plugin that fails before reading its configuration closes stdin early: its exit status tells.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(request.conf));
  });
}

/**
 * A network configuration list run the way libcni runs one: name and cniVersion injected into each
 * plugin, the previous result passed along on ADD, runtimeConfig keys given only to plugins that declare
 * the capability, and DEL in reverse order with the cached ADD result as prevResult.
 * Returns { ms, result, perPlugin } where ms is the wall time of the whole list.
 */
export function runList(side, list, request, cachedResult) {
  const plugins = request.command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let prev = request.command === 'DEL' ? cachedResult : undefined;
  const perPlugin = [];
  const t0 = performance.now();
  for (const plugin of plugins) {
    const conf = { cniVersion: list.cniVersion, name: list.name, ...plugin };
    const runtimeConfig = {};
    for (const [key, value] of Object.entries(request.runtimeConfig ?? {})) {
      if (plugin.capabilities?.[key]) runtimeConfig[key] = value;
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
    if (prev !== undefined) conf.prevResult = prev;
    const { ms, result } = runPlugin(side, { ...request, conf });
    perPlugin.push({ type: plugin.type, ms });
    if (request.command === 'ADD') prev = result;
  }
  return { ms: performance.now() - t0, result: prev, perPlugin };
}

/** Peak RSS in kB of one run (wait4's ru_maxrss: the plugin and every delegate process it waited for). */
export function peakRssKb(side, request) {
  const bin = join(side.bin, request.conf.type);
  const env = pluginEnv(side, request);
  const input = JSON.stringify(request.conf);
  let out;
  if (existsSync('/usr/bin/time')) {
    const file = join(tmpdir(), `cni-bench-rss-${process.pid}`);
    out = spawnSync('/usr/bin/time', ['-f', '%M', '-o', file, bin], { input, env, encoding: 'utf8' });
    const text = out.status === 0 ? readFileSync(file, 'utf8') : '';
    rmSync(file, { force: true });
    if (out.status !== 0) throw new Error(`${side.key} rss run failed: ${out.stdout}${out.stderr}`);
    return Number(text.trim());
  }
  // Without GNU time: Python's os.wait4 gives the same rusage.
  const script = 'import os,sys\npid=os.spawnv(os.P_NOWAIT,sys.argv[1],[sys.argv[1]])\n_,st,ru=os.wait4(pid,0)\nsys.stderr.write("RSS %d\\n"%ru.ru_maxrss)\nsys.exit(os.waitstatus_to_exitcode(st))';
  out = spawnSync('python3', ['-c', script, bin], { input, env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${side.key} rss run failed: ${out.stdout}${out.stderr}`);
  return Number(/RSS (\d+)/.exec(out.stderr)[1]);
}

/** A folder for one side's state (host-local's dataDir, tuning's backups, multinet's cniDir). */
export function stateDir(context, ...parts) {
  const dir = join(context.dir, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function bundleAbout() {
  try {
    const { version, node, id } = JSON.parse(readFileSync(join(dirname(realpathSync(join(OURS_BIN, 'bridge'))), 'about.json'), 'utf8'));
    return { version, node, id };
  } catch {
    return undefined; // the older layout has no about.json
  }
}

/** What was measured and what the machine was doing, written beside the figures. */
export function machine() {
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim();
  return {
    date: new Date().toISOString(),
    commit: commit || undefined,
    bundle: bundleAbout(),
    driverNode: process.version,
    cpus: cpus().length,
    loadAverage: loadavg().map((value) => round(value)),
    ours: OURS_SOURCE,
    oursRunFrom: OURS_BIN,
    reference: REFERENCE_BIN,
  };
}

const fmt = (value, unit) => (value === null || value === undefined ? '-' : `${typeof value === 'number' ? value.toFixed(unit === 'MB' ? 1 : value < 10 ? 2 : 1) : value}`);

/**
 * Prints the rows as one table: each row { label, unit, ours: {median, p90}, reference: {median, p90},
 * ratio, goal, pass }. Returns the text.
 */
export function printTable(title, rows) {
  const header = ['measure', 'unit', 'ours med', 'ours p90', 'ref med', 'ref p90', 'ours/ref', 'goal', 'result'];
  const lines = rows.map((row) => [
    row.label,
    row.unit,
    fmt(row.ours?.median, row.unit),
    fmt(row.ours?.p90, row.unit),
    fmt(row.reference?.median, row.unit),
    fmt(row.reference?.p90, row.unit),
    row.ratio === null || row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`,
    row.goal ?? '',
    row.pass === undefined ? '' : row.pass ? 'pass' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i].length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  const render = (cells) => cells.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const text = [title, render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
  console.log(text);
  return text;
}

/** Writes bench/results/<name>.json. */
export function writeResults(name, value) {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`);
}

/** Stops with a clear message when a side's executables are missing. */
export function requireExecutables(names) {
  for (const side of SIDES) {
    for (const name of names) {
      if (!existsSync(join(side.bin, name))) {
        console.error(`bench: "${join(side.bin, name)}" is missing${side.key === 'ours' ? ' (run `pnpm build` first)' : ' (apt-get install containernetworking-plugins)'}`);
        process.exit(2);
      }
    }
  }
}

/** Rounds alternate which side goes first, so neither always runs on a warmer cache. */
export function sidesFor(round) {
  return round % 2 === 0 ? SIDES : [...SIDES].reverse();
}
