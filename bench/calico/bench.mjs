#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// calico-ipam through the built executables on a real three-member etcd cluster (loopback ports,
// temporary folder), side by side in one run with host-local on one node:
//   1. ADD latency (median, p90) and allocations/s on one node, calico-ipam and host-local interleaved;
//   2. the same with 10 nodes at once (one stream per node);
//   3. 1,000 pods on 10 nodes with pools holding exactly 1,000 addresses: failures, duplicates, wall time.
// BENCH_RUNS (default 100) sets the ADDs of 1 and per node of 2. Root is not needed.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '../../apps/cni-bundle/dist/bin');
const CALICO = join(bin, 'calico-ipam');
const HOSTLOCAL = join(bin, 'host-local');
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const run = promisify(execFile);

// etcd's data on tmpfs: an fsync per write would measure the disk, not the plugin.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bench-calico-'));
const members = [];

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
  for (const m of members) m.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** One plugin run as a runtime does it (env -i plus the CNI variables); resolves to ms and exit. */
function exec(binary, command, containerId, conf) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(binary, [], {
      env: { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: '/run/netns/bench-none', CNI_IFNAME: 'eth0', CNI_PATH: bin, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out }));
    child.stdin.end(JSON.stringify(conf));
  });
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
  const results = { runs: RUNS };

  // 1. One node, interleaved with host-local.
  await ctl(endpoints, 'pool', 'create', '--name', 'one', '--cidr', '10.200.0.0/16');
  const c1 = [];
  const h1 = [];
  for (let i = 0; i < 5; i++) {
    await exec(CALICO, 'ADD', `warm${i}`, calicoConf(endpoints, 'node-0'));
    await exec(HOSTLOCAL, 'ADD', `warm${i}`, hostLocalConf);
  }
  let cTotal = 0;
  let hTotal = 0;
  for (let i = 0; i < RUNS; i++) {
    const c = await exec(CALICO, 'ADD', `c${i}`, calicoConf(endpoints, 'node-0'));
    const h = await exec(HOSTLOCAL, 'ADD', `h${i}`, hostLocalConf);
    if (c.code !== 0 || h.code !== 0) throw new Error(`ADD failed: ${c.out} ${h.out}`);
    c1.push(c.ms);
    h1.push(h.ms);
    cTotal += c.ms;
    hTotal += h.ms;
  }
  results.oneNode = {
    calico: { ...stats(c1), perSecond: +((RUNS / cTotal) * 1000).toFixed(1) },
    hostLocal: { ...stats(h1), perSecond: +((RUNS / hTotal) * 1000).toFixed(1) },
  };
  results.oneNode.medianDifferenceMs = +(results.oneNode.calico.median - results.oneNode.hostLocal.median).toFixed(1);
  console.log('one node:', JSON.stringify(results.oneNode));

  // 2. Ten nodes at once, one stream each.
  await wipe(endpoints);
  await ctl(endpoints, 'pool', 'create', '--name', 'ten', '--cidr', '10.201.0.0/16');
  const per = Math.max(10, Math.floor(RUNS / 2));
  const all = [];
  const t10 = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, async (_, node) => {
      for (let i = 0; i < per; i++) {
        const r = await exec(CALICO, 'ADD', `n${node}-${i}`, calicoConf(endpoints, `node-${node}`));
        if (r.code !== 0) throw new Error(`ADD failed: ${r.out}`);
        all.push(r.ms);
      }
    }),
  );
  const wall10 = performance.now() - t10;
  results.tenNodes = { adds: all.length, ...stats(all), perSecond: +((all.length / wall10) * 1000).toFixed(1) };
  console.log('ten nodes at once:', JSON.stringify(results.tenNodes));

  // 3. 1,000 pods on 10 nodes, pools exactly full (512 + 256 + 128 + 64 + 32 + 8 addresses).
  await wipe(endpoints);
  const pools = [
    ['p512', '10.210.0.0/23', 26],
    ['p256', '10.211.0.0/24', 26],
    ['p128', '10.212.0.0/25', 26],
    ['p64', '10.213.0.0/26', 26],
    ['p32', '10.214.0.0/27', 27],
    ['p8', '10.215.0.0/29', 29],
  ];
  for (const [name, cidr, size] of pools) await ctl(endpoints, 'pool', 'create', '--name', name, '--cidr', cidr, '--block-size', String(size));
  const seen = new Set();
  let failures = 0;
  let duplicates = 0;
  let next = 0;
  const tFull = performance.now();
  // 2 plugins in flight per node: 20 at once on the machine.
  await Promise.all(
    Array.from({ length: 20 }, async (_, worker) => {
      for (;;) {
        const i = next++;
        if (i >= 1000) return;
        const r = await exec(CALICO, 'ADD', `pod${i}`, calicoConf(endpoints, `node-${worker % 10}`));
        if (r.code !== 0 || r.out.trim() === '') {
          failures++;
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
  const extra = await exec(CALICO, 'ADD', 'pod-1001', calicoConf(endpoints, 'node-0'));
  results.thousandPods = {
    pods: 1000,
    failures,
    duplicates,
    distinct: seen.size,
    seconds: +(wallFull / 1000).toFixed(1),
    underThirtySeconds: wallFull < 30_000,
    nextAddRefused: extra.code !== 0,
  };
  console.log('1,000 pods, 10 nodes, pools exactly full:', JSON.stringify(results.thousandPods));
  console.log(usage);
  console.log(JSON.stringify(results, null, 2));
} finally {
  cleanup();
}
