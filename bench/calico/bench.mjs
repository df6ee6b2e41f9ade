#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// calico-ipam through the built executables on a real three-member etcd cluster (loopback ports,
// temporary folder), side by side in one run with host-local on one node, each by exec (resident
// mode off) and through a `cni-bundle daemon` of warm workers (resident mode):
//   1. ADD latency (median, p90) and allocations/s on one node, calico-ipam and host-local interleaved;
//   2. the same with 10 nodes at once (one stream per node);
//   3. 1,000 pods on 10 nodes with pools holding exactly 1,000 addresses: failures, duplicates, wall time.
// BENCH_RUNS (default 100) sets the ADDs of 1 and per node of 2. BENCH_MODES (default
// "exec,resident") chooses the modes. Root is needed for resident mode only (the daemon's socket).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '../../apps/cni-bundle/dist/bin');
const CALICO = join(bin, 'calico-ipam');
const HOSTLOCAL = join(bin, 'host-local');
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const MODES = (process.env.BENCH_MODES ?? 'exec,resident').split(',').filter(Boolean);
const WORKERS = 4;
const run = promisify(execFile);

// etcd's data on tmpfs: an fsync per write would measure the disk, not the plugin.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bench-calico-'));
const members = [];
const socket = join(dir, 'run', 'daemon.sock');
let daemon;

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startEtcd() {
  const ms = [];
  for (let i = 0; i < 3; i++) ms.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  const cluster = ms.map((m) => `${m.name}=${m.peer}`).join(',');
  for (const m of ms) {
    members.push(
      spawn('etcd', ['--name', m.name, '--data-dir', join(dir, m.name), '--listen-client-urls', m.client, '--advertise-client-urls', m.client, '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--log-level', 'error', '--logger', 'zap'], { stdio: 'ignore' }),
    );
  }
  const endpoints = ms.map((m) => m.client).join(',');
  for (let i = 0; ; i++) {
    try {
      await run('etcdctl', [`--endpoints=${endpoints}`, 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } });
      return endpoints;
    } catch (error) {
      if (i > 200) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function cleanup() {
  daemon?.kill('SIGTERM');
  for (const m of members) m.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/**
 * One plugin run as a runtime does it (env -i plus the CNI variables); resolves to ms, exit and
 * output. `mode` "exec" turns resident mode off; "resident" points the launcher at the bench's daemon.
 */
function exec(binary, command, containerId, conf, mode = 'exec') {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(binary, [], {
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: '/run/netns/bench-none',
        CNI_IFNAME: 'eth0',
        CNI_PATH: bin,
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_BUNDLE_SOCKET: mode === 'resident' ? socket : '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out, err }));
    child.stdin.end(JSON.stringify(conf));
  });
}

async function startDaemon() {
  mkdirSync(dirname(socket), { recursive: true });
  daemon = spawn(join(bin, 'cni-bundle'), ['daemon', '--socket', socket, '--workers', String(WORKERS), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = spawnSync(join(bin, 'cni-bundle'), ['daemon', 'status', '--json', '--socket', socket], { encoding: 'utf8' });
    if (status.status === 0 && JSON.parse(status.stdout).workers.filter((w) => w.state === 'idle').length === WORKERS) return;
    if (Date.now() > deadline) throw new Error('the daemon did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Requests the daemon served (not refused and run by exec instead), by outcome. */
function daemonServed() {
  const status = spawnSync(join(bin, 'cni-bundle'), ['daemon', 'status', '--json', '--socket', socket], { encoding: 'utf8' });
  return status.status === 0 ? JSON.parse(status.stdout) : undefined;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  return { median: +pct(s, 0.5).toFixed(1), p90: +pct(s, 0.9).toFixed(1) };
};

const calicoConf = (endpoints, node) => ({
  cniVersion: '1.1.0',
  name: 'bench',
  type: 'calico-ipam',
  etcd_endpoints: endpoints,
  nodename: node,
  ipam_lock_file: join(dir, `${node}.lock`),
  ipam: { type: 'calico-ipam' },
});
const hostLocalConf = { cniVersion: '1.1.0', name: 'bench', type: 'host-local', ipam: { type: 'host-local', dataDir: join(dir, 'host-local'), ranges: [[{ subnet: '10.250.0.0/16' }]] } };

async function ctl(endpoints, ...args) {
  return (await run(CALICO, args, { env: { PATH: process.env.PATH, ETCD_ENDPOINTS: endpoints } })).stdout;
}

async function wipe(endpoints) {
  await run('etcdctl', [`--endpoints=${endpoints}`, 'del', '--prefix', '/calico/'], { env: { ...process.env, ETCDCTL_API: '3' } });
}

try {
  const endpoints = await startEtcd();
  if (MODES.includes('resident')) await startDaemon();
  const results = { runs: RUNS, modes: MODES, loadBefore: loadavg().map((l) => +l.toFixed(1)) };

  // 1. One node, calico-ipam and host-local interleaved, in each mode.
  await ctl(endpoints, 'pool', 'create', '--name', 'one', '--cidr', '10.200.0.0/16');
  results.oneNode = {};
  for (const mode of MODES) {
    const c1 = [];
    const h1 = [];
    for (let i = 0; i < 5; i++) {
      await exec(CALICO, 'ADD', `warm-${mode}${i}`, calicoConf(endpoints, 'node-0'), mode);
      await exec(HOSTLOCAL, 'ADD', `warm-${mode}${i}`, hostLocalConf, mode);
    }
    let cTotal = 0;
    let hTotal = 0;
    for (let i = 0; i < RUNS; i++) {
      const c = await exec(CALICO, 'ADD', `c-${mode}${i}`, calicoConf(endpoints, 'node-0'), mode);
      const h = await exec(HOSTLOCAL, 'ADD', `h-${mode}${i}`, hostLocalConf, mode);
      if (c.code !== 0 || h.code !== 0) throw new Error(`ADD failed: ${c.out}${c.err} ${h.out}${h.err}`);
      c1.push(c.ms);
      h1.push(h.ms);
      cTotal += c.ms;
      hTotal += h.ms;
    }
    const row = {
      calico: { ...stats(c1), perSecond: +((RUNS / cTotal) * 1000).toFixed(1) },
      hostLocal: { ...stats(h1), perSecond: +((RUNS / hTotal) * 1000).toFixed(1) },
    };
    row.medianDifferenceMs = +(row.calico.median - row.hostLocal.median).toFixed(1);
    row.withinFiveMs = row.medianDifferenceMs <= 5;
    results.oneNode[mode] = row;
    console.log(`one node (${mode}):`, JSON.stringify(row));
  }

  // 2. Ten nodes at once, one stream each.
  results.tenNodes = {};
  for (const mode of MODES) {
    await wipe(endpoints);
    await ctl(endpoints, 'pool', 'create', '--name', 'ten', '--cidr', '10.201.0.0/16');
    const per = Math.max(10, Math.floor(RUNS / 2));
    const all = [];
    const t10 = performance.now();
    await Promise.all(
      Array.from({ length: 10 }, async (_, node) => {
        for (let i = 0; i < per; i++) {
          const r = await exec(CALICO, 'ADD', `n${node}-${i}`, calicoConf(endpoints, `node-${node}`), mode);
          if (r.code !== 0) throw new Error(`ADD failed: ${r.out}${r.err}`);
          all.push(r.ms);
        }
      }),
    );
    const wall10 = performance.now() - t10;
    results.tenNodes[mode] = { adds: all.length, ...stats(all), perSecond: +((all.length / wall10) * 1000).toFixed(1) };
    console.log(`ten nodes at once (${mode}):`, JSON.stringify(results.tenNodes[mode]));
  }

  // 3. 1,000 pods on 10 nodes, pools exactly full (512 + 256 + 128 + 64 + 32 + 8 addresses).
  const pools = [
    ['p512', '10.210.0.0/23', 26],
    ['p256', '10.211.0.0/24', 26],
    ['p128', '10.212.0.0/25', 26],
    ['p64', '10.213.0.0/26', 26],
    ['p32', '10.214.0.0/27', 27],
    ['p8', '10.215.0.0/29', 29],
  ];
  results.thousandPods = {};
  for (const mode of MODES) {
    await wipe(endpoints);
    for (const [name, cidr, size] of pools) await ctl(endpoints, 'pool', 'create', '--name', name, '--cidr', cidr, '--block-size', String(size));
    const servedBefore = mode === 'resident' ? daemonServed() : undefined;
    const seen = new Set();
    const errors = new Map();
    let failures = 0;
    let duplicates = 0;
    let next = 0;
    const latencies = [];
    const tFull = performance.now();
    // 2 plugins in flight per node: 20 at once on the machine.
    await Promise.all(
      Array.from({ length: 20 }, async (_, worker) => {
        for (;;) {
          const i = next++;
          if (i >= 1000) return;
          const r = await exec(CALICO, 'ADD', `pod${i}`, calicoConf(endpoints, `node-${worker % 10}`), mode);
          latencies.push(r.ms);
          if (r.code !== 0 || r.out.trim() === '') {
            failures++;
            const why = `exit ${r.code}: ${(r.out + r.err).trim().slice(0, 200)}`;
            errors.set(why, (errors.get(why) ?? 0) + 1);
            continue;
          }
          const ip = JSON.parse(r.out).ips[0].address.split('/')[0];
          if (seen.has(ip)) duplicates++;
          seen.add(ip);
        }
      }),
    );
    const wallFull = performance.now() - tFull;
    const usage = await ctl(endpoints, 'show');
    const extra = await exec(CALICO, 'ADD', 'pod-1001', calicoConf(endpoints, 'node-0'), mode);
    const row = {
      pods: 1000,
      failures,
      duplicates,
      distinct: seen.size,
      seconds: +(wallFull / 1000).toFixed(1),
      goalSeconds: mode === 'resident' ? 10 : 30,
      ...stats(latencies),
      nextAddRefused: extra.code !== 0,
    };
    row.pass = failures === 0 && duplicates === 0 && wallFull < row.goalSeconds * 1000;
    if (errors.size > 0) row.errors = Object.fromEntries([...errors].slice(0, 5));
    if (servedBefore) {
      // A request the daemon refused (queue full or too long) ran by exec: count what it served.
      const count = (status, key) => status.requests.filter((r) => r.plugin === 'calico-ipam' && r.verb === 'ADD').reduce((n, r) => n + r[key], 0);
      const after = daemonServed();
      if (after) row.daemon = Object.fromEntries(['served', 'failed', 'refused'].map((key) => [key, count(after, key) - count(servedBefore, key)]));
    }
    results.thousandPods[mode] = row;
    console.log(`1,000 pods, 10 nodes, pools exactly full (${mode}):`, JSON.stringify(row));
    console.log(usage);
  }
  results.loadAfter = loadavg().map((l) => +l.toFixed(1));
  console.log(JSON.stringify(results, null, 2));
} finally {
  cleanup();
}
