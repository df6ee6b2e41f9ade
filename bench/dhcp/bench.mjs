#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Time to a configured DHCP lease: macvlan + dhcp ADD, from the runtime's spawn of macvlan to its exit
// with the pod's interface up and addressed, for one pod and for many pods at once; ours
// (apps/cni-bundle/dist/bin: macvlan delegating to dhcp in-process, `dhcp daemon`) against Debian's Go
// reference (/usr/lib/cni/macvlan exec'ing /usr/lib/cni/dhcp, `/usr/lib/cni/dhcp daemon`), both
// against the same dnsmasq in a server namespace. Prints medians.
//
//   pnpm run build && node bench/dhcp/bench.mjs [runs=10] [pods=50] [rounds=3]
//
// Needs root. Everything lives in namespaces and a temporary folder the run makes and removes (also on
// Ctrl-C); plugins run as a runtime runs them: `env -i`, the CNI variables and PATH only.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OURS = process.env.CNI_BUNDLE_BIN ?? join(here, '../../apps/cni-bundle/dist/bin');
const REF = '/usr/lib/cni';
const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 10);
const pods = Number(process.argv[3] ?? 50);
const rounds = Number(process.argv[4] ?? 3);
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const tag = `dhb${process.pid % 10000}`;
const server = `${tag}-s`;
const host = `${tag}-h`;
const dir = mkdtempSync(join(tmpdir(), 'cni-bench-dhcp-'));
const made = [];
const children = [];
const log = (text) => process.stderr.write(`bench/dhcp: ${text}\n`);

for (const side of [OURS, REF]) {
  for (const name of ['macvlan', 'dhcp']) if (!existsSync(join(side, name))) throw new Error(`missing ${join(side, name)} (pnpm run build?)`);
}
if (process.getuid?.() !== 0) throw new Error('bench/dhcp needs root');

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
function netns(name) {
  ip('netns', 'add', name);
  made.push(name);
  return name;
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  for (const name of made.reverse()) {
    try {
      ip('netns', 'del', name);
    } catch {}
  }
  // Daemons need a moment to exit before their folder goes.
  try {
    execFileSync('sleep', ['0.4']);
  } catch {}
  if (process.env.BENCH_KEEP) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function background(argv, name) {
  const fd = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd], env: { PATH } });
  children.push(child);
  return child;
}

async function waitFor(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The network: dnsmasq on the server's bridge; the runtime's host namespace with an uplink on it.
netns(server);
netns(host);
ip('-n', server, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0');
ip('-n', server, 'addr', 'add', '10.77.200.1/21', 'dev', 'br0');
ip('-n', server, 'link', 'set', 'br0', 'up');
ip('-n', server, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', host);
ip('-n', server, 'link', 'set', 'up0', 'master', 'br0', 'up');
ip('-n', host, 'link', 'set', 'uplink0', 'up');
background(
  ['ip', 'netns', 'exec', server, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--interface=br0', '--bind-interfaces',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`, `--dhcp-leasefile=${join(dir, 'leases')}`, '--dhcp-authoritative', '--no-ping', '--dhcp-lease-max=5000',
    '--dhcp-range=10.77.200.10,10.77.207.250,255.255.248.0,1h', '--dhcp-option=option:router,10.77.200.1', '--log-facility=-'],
  'dnsmasq',
);
await waitFor(() => existsSync(join(dir, 'dnsmasq.log')) && readFileSync(join(dir, 'dnsmasq.log'), 'utf8').includes('DHCP, IP range'), 'dnsmasq');

// The two daemons, each on its own socket.
const sides = [
  { key: 'ours', bin: OURS, socket: join(dir, 'ours.sock'), daemon: [join(OURS, 'dhcp'), 'daemon', '-socketpath', join(dir, 'ours.sock'), '-statedir', join(dir, 'ours-state')] },
  { key: 'reference', bin: REF, socket: join(dir, 'ref.sock'), daemon: [join(REF, 'dhcp'), 'daemon', '-socketpath', join(dir, 'ref.sock')] },
];
for (const side of sides) {
  background(side.daemon, `${side.key}-daemon`);
  await waitFor(() => existsSync(side.socket), `${side.key}'s dhcp daemon`);
}

let serial = 0;
function conf(side) {
  return JSON.stringify({ cniVersion: '1.0.0', name: 'lan', type: 'macvlan', master: 'uplink0', mode: 'bridge', ipam: { type: 'dhcp', daemonSocketPath: side.socket } });
}

/** One plugin run as a runtime does it, inside the host namespace; resolves to [ms, exit code, stdout]. */
function runPlugin(side, command, pod) {
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: pod.id, CNI_NETNS: `/var/run/netns/${pod.ns}`, CNI_IFNAME: 'eth0', CNI_PATH: side.bin, PATH };
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('ip', ['netns', 'exec', host, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), join(side.bin, 'macvlan')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    child.on('close', (code) => resolve([Number(process.hrtime.bigint() - started) / 1e6, code, out, err]));
    child.stdin.on('error', () => {});
    child.stdin.end(conf(side));
  });
}

function newPod(side) {
  const id = `${side.key}-${serial++}`;
  return { id, ns: netns(`${tag}-p${serial}`) };
}

function removePod(pod) {
  try {
    ip('netns', 'del', pod.ns);
  } catch {}
  made.splice(made.indexOf(pod.ns), 1);
}

async function addAndCheck(side, pod) {
  const [ms, code, out, err] = await runPlugin(side, 'ADD', pod);
  if (code !== 0) throw new Error(`${side.key} ADD failed: ${out}${err}`);
  let address;
  try {
    address = JSON.parse(out).ips?.[0]?.address;
  } catch {
    // A success without a result would be a bug of either side: counted and reported, not hidden.
    silent[side.key]++;
    log(`${side.key} ADD of ${pod.id} printed no result (exit ${code}) ${JSON.stringify(err.slice(0, 200))}`);
    return ms;
  }
  const shown = ip('-n', pod.ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0');
  if (!shown.includes(address)) throw new Error(`${side.key}: ${address} is not on the pod's eth0`);
  return ms;
}

async function teardown(side, list) {
  await Promise.all(list.map((pod) => runPlugin(side, 'DEL', pod)));
  for (const pod of list) removePod(pod);
}

const baseline = [];
for (let i = 0; i < 5; i++) {
  const started = process.hrtime.bigint();
  execFileSync('ip', ['netns', 'exec', host, 'env', '-i', '/bin/true']);
  baseline.push(Number(process.hrtime.bigint() - started) / 1e6);
}

const single = { ours: [], reference: [] };
const silent = { ours: 0, reference: 0 };
const many = { ours: [], reference: [] };
log(`1 pod: ${runs} runs per side (plus a warm-up)`);
for (let run = 0; run <= runs; run++) {
  const order = run % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) {
    const pod = newPod(side);
    const ms = await addAndCheck(side, pod);
    if (run > 0) single[side.key].push(ms);
    await teardown(side, [pod]);
  }
}
log(`${pods} pods at once: ${rounds} rounds per side`);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) {
    const list = Array.from({ length: pods }, () => newPod(side));
    const started = process.hrtime.bigint();
    await Promise.all(list.map((pod) => addAndCheck(side, pod)));
    many[side.key].push(Number(process.hrtime.bigint() - started) / 1e6);
    await teardown(side, list);
  }
}

const rows = [
  ['1 pod: macvlan+dhcp ADD', median(single.ours), median(single.reference)],
  [`${pods} pods at once (wall)`, median(many.ours), median(many.reference)],
];
console.log('measure                        ours med ms   ref med ms   ours/ref');
for (const [name, ours, ref] of rows) console.log(`${name.padEnd(30)} ${ours.toFixed(1).padStart(11)} ${ref.toFixed(1).padStart(12)} ${(ours / ref).toFixed(2).padStart(9)}x`);
if (silent.ours + silent.reference > 0) console.log(`ADDs that exited 0 without printing a result: ours ${silent.ours}, reference ${silent.reference}`);
console.log(`(each figure includes \`ip netns exec\` + env: ${median(baseline).toFixed(1)} ms median; dnsmasq --no-ping, same server for both sides)`);
const leases = existsSync(join(dir, 'leases')) ? readFileSync(join(dir, 'leases'), 'utf8').trim() : '';
if (leases !== '') {
  // The client id (5th field, hex) names the container, whose id names the side.
  const held = { ours: 0, reference: 0 };
  for (const line of leases.split('\n')) {
    const id = Buffer.from((line.split(' ')[4] ?? '').split(':').map((x) => Number.parseInt(x, 16))).toString('latin1');
    if (id.includes('ours-')) held.ours++;
    else held.reference++;
  }
  log(`leases the server still held after every DEL (not released): ours ${held.ours}, reference ${held.reference}`);
}
// The daemons and dnsmasq keep the event loop alive: stop them (the exit handler) and leave.
process.exit(0);
