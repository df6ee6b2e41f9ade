#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// host-local's allocator and executable, against Debian's reference binary where it applies.
//
// 1. In-process, through the allocator's API: allocate every address of a /16 one after another
//    on one store; the time per allocation over the last thousand against the first thousand
//    (no scan of the whole store per allocation keeps the ratio near 1).
// 2. One ADD (and its DEL) through the executable, with 0 and with 5,000 reservations in the
//    store, ours and the reference's, in a runtime-like environment (env -i).
//
//   pnpm --filter '@cni/ipam-hostlocal...' build && (cd apps/cni-bundle && pnpm build)
//   node bench/ipam/bench.mjs [runs=15]
//
// Everything happens in temporary folders; nothing touches the network.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = join(root, 'packages', 'plugins', 'ipam', 'host-local', 'dist', 'index.js');
// IPAM_BENCH_HOSTLOCAL_BIN: another build of ours (e.g. a copy kept away from rebuilds).
const built = process.env.IPAM_BENCH_HOSTLOCAL_BIN ?? join(root, 'apps', 'cni-bundle', 'dist', 'bin', 'host-local');
const reference = '/usr/lib/cni/host-local';
const runs = Number(process.argv[2] ?? 15);
// The /16 runs on tmpfs by default (where host-local's dataDir belongs, so that leases do not
// outlive a reboot), which measures the allocator rather than this machine's disk: a file
// creation on the test machines' ext4 costs 1-3 ms, the same for us and for the reference.
const slash16Base = process.env.IPAM_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

for (const [what, path] of [['the library', dist], ['the executable', built]]) {
  if (!existsSync(path)) {
    console.error(`bench/ipam: build ${what} first (${path} missing)`);
    process.exit(2);
  }
}
const ours = built;

const { DiskStore, HostLocalAllocator, canonicalizeRangeSet } = await import(pathToFileURL(dist).href);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

async function wholeSlash16() {
  const dataDir = mkdtempSync(join(slash16Base, 'ipam-bench-'));
  try {
    const store = DiskStore.open(dataDir, 'bench');
    const allocator = new HostLocalAllocator(store);
    const ranges = [canonicalizeRangeSet([{ subnet: '10.128.0.0/16' }])];
    const times = [];
    const started = performance.now();
    for (let i = 0; ; i++) {
      const t0 = performance.now();
      try {
        await allocator.allocate(ranges, [], `c${i}`, 'eth0');
      } catch (error) {
        if (/no IP addresses available/.test(error.message)) break;
        throw error;
      }
      times.push(performance.now() - t0);
    }
    const total = performance.now() - started;
    store.close();
    // Medians: the machine's other work and GC pauses land in either window at random.
    const first = median(times.slice(0, 1000)) * 1000;
    const last = median(times.slice(-1000)) * 1000;
    return {
      allocations: times.length,
      totalSeconds: total / 1000,
      firstThousandUs: first,
      lastThousandUs: last,
      firstThousandMeanUs: mean(times.slice(0, 1000)) * 1000,
      lastThousandMeanUs: mean(times.slice(-1000)) * 1000,
      ratio: last / first,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function runPlugin(binary, command, containerId, conf) {
  // A rebuild of the bundle (tsup cleans dist) may take the executable away for a moment.
  for (let wait = 0; !existsSync(binary) && wait < 100; wait++) spawnSync('sleep', ['0.1']);
  const t0 = performance.now();
  const out = spawnSync(binary, [], {
    input: JSON.stringify(conf),
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: '/run/netns/ipam-bench-none',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/nonexistent',
    },
  });
  const ms = performance.now() - t0;
  if (out.status !== 0) throw new Error(`${binary} ${command} failed: ${out.stdout}${out.stderr}`);
  return ms;
}

function addWithReservations(binary, reservations) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ipam-bench-exec-'));
  try {
    const dir = join(dataDir, 'bench');
    mkdirSync(dir);
    // The store as upstream leaves it: a file per address, the last reserved address.
    for (let i = 0; i < reservations; i++) {
      const ip = `10.128.${(i + 2) >> 8}.${(i + 2) & 255}`;
      writeFileSync(join(dir, ip), `pre${i}\r\neth0`);
      if (i === reservations - 1) writeFileSync(join(dir, 'last_reserved_ip.0'), ip);
    }
    const conf = {
      cniVersion: '1.0.0',
      name: 'bench',
      type: 'host-local',
      ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.128.0.0/16' }]] },
    };
    const add = [];
    const del = [];
    runPlugin(binary, 'ADD', 'warmup', conf);
    runPlugin(binary, 'DEL', 'warmup', conf);
    for (let i = 0; i < runs; i++) {
      add.push(runPlugin(binary, 'ADD', `run${i}`, conf));
      del.push(runPlugin(binary, 'DEL', `run${i}`, conf));
    }
    return { addMs: median(add), delMs: median(del) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const results = { date: new Date().toISOString(), node: process.version, runs };
console.log(`host-local, in-process: every address of 10.128.0.0/16, one after another (store under ${slash16Base})`);
results.slash16Dir = slash16Base;
results.slash16 = await wholeSlash16();
const s = results.slash16;
console.log(
  `  ${s.allocations} allocations in ${s.totalSeconds.toFixed(1)} s; per allocation (median): first 1000 ${s.firstThousandUs.toFixed(1)} µs, ` +
    `last 1000 ${s.lastThousandUs.toFixed(1)} µs, ratio ${s.ratio.toFixed(2)} (must be <= 1.2); ` +
    `means ${s.firstThousandMeanUs.toFixed(1)} and ${s.lastThousandMeanUs.toFixed(1)} µs`,
);

console.log(`host-local executable, median of ${runs} ADD and DEL (env -i)`);
results.executable = {};
for (const [name, binary] of [['ours', ours], ['reference', reference]]) {
  if (!existsSync(binary)) continue;
  for (const reservations of [0, 5000]) {
    const figures = addWithReservations(binary, reservations);
    results.executable[`${name}-${reservations}`] = figures;
    console.log(`  ${name.padEnd(9)} with ${String(reservations).padStart(4)} reservations: ADD ${figures.addMs.toFixed(1)} ms, DEL ${figures.delMs.toFixed(1)} ms`);
  }
}
writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (s.ratio > 1.2) {
  console.error('bench/ipam: the last thousand allocations are more than 1.2 times slower than the first');
  process.exitCode = 1;
}
