#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// @cni/netlink against iproute2: create, configure (address, route, up) and delete N veth pairs
// in a namespace made for the run, once through the library and once through `ip -batch`; then
// the cost a plugin process pays to import the package and open a handle.
//
//   pnpm --filter @cni/netlink build && node bench/netlink/bench.mjs [pairs=1000] [rounds=3]
//
// Needs root. Touches nothing outside the namespaces it makes (and removes).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = join(root, 'packages', 'netlink', 'dist', 'index.js');
const pairs = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 3);
const OPS_PER_PAIR = 5; // link add, address add, link up, route add, link del

if (process.getuid?.() !== 0) {
  console.error('bench/netlink: needs root (it makes network namespaces)');
  process.exit(1);
}

const { openNetlink } = await import(pathToFileURL(dist).href);

async function withNetns(fn) {
  const name = `nlbench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return await fn(name);
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
}

function address(i) {
  return `10.${(i >> 8) & 0xff}.${i & 0xff}.1`;
}

function route(i) {
  return `172.${16 + ((i >> 8) & 0x0f)}.${i & 0xff}.0/24`;
}

async function library(name) {
  const nl = await openNetlink({ netns: `/var/run/netns/${name}` });
  try {
    const start = performance.now();
    for (let i = 0; i < pairs; i++) {
      const link = { name: `vb${i}` };
      await nl.link.add({ kind: 'veth', name: link.name, peer: { name: `vp${i}` } });
      await nl.address.add(link, `${address(i)}/32`);
      await nl.link.setUp(link);
      await nl.route.add({ dst: route(i), link });
    }
    for (let i = 0; i < pairs; i++) await nl.link.del({ name: `vb${i}` });
    return performance.now() - start;
  } finally {
    nl.close();
  }
}

function iproute2(name) {
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    lines.push(`link add vb${i} type veth peer name vp${i}`);
    lines.push(`address add ${address(i)}/32 dev vb${i}`);
    lines.push(`link set vb${i} up`);
    lines.push(`route add ${route(i)} dev vb${i}`);
  }
  for (let i = 0; i < pairs; i++) lines.push(`link del vb${i}`);
  const file = join(root, 'bench', 'results', `ip-batch-${name}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    const start = performance.now();
    execFileSync('ip', ['-n', name, '-batch', file], { stdio: 'inherit' });
    return performance.now() - start;
  } finally {
    rmSync(file, { force: true });
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const ours = [];
const theirs = [];
for (let round = 0; round < rounds && pairs > 0; round++) {
  // Alternate the order so neither side always runs on a warmer kernel.
  if (round % 2 === 0) {
    ours.push(await withNetns((name) => library(name)));
    theirs.push(await withNetns((name) => iproute2(name)));
  } else {
    theirs.push(await withNetns((name) => iproute2(name)));
    ours.push(await withNetns((name) => library(name)));
  }
}
const ops = pairs * OPS_PER_PAIR;
const ourOps = ops / (median(ours) / 1000);
const theirOps = ops / (median(theirs) / 1000);

// A fresh process per sample, with a runtime-like environment, measuring inside it.
// The first file import pays for the ESM loader itself (resolution, package scope lookup): an
// empty file is imported first and reported apart, so the figures are what this package adds.
const probe = `
const b0 = process.cpuUsage();
const bt = performance.now();
await import(${JSON.stringify(pathToFileURL(join(here, 'baseline.mjs')).href)});
const baselineMs = performance.now() - bt;
const b1 = process.cpuUsage();
const c0 = process.cpuUsage();
const t0 = performance.now();
const { openNetlink } = await import(${JSON.stringify(pathToFileURL(dist).href)});
const t1 = performance.now();
const c1 = process.cpuUsage();
const nl = await openNetlink();
const t2 = performance.now();
const c2 = process.cpuUsage();
nl.close();
const cpu = (a, b) => (b.user - a.user + b.system - a.system) / 1000;
process.stdout.write(JSON.stringify({ baselineMs, baselineCpuMs: cpu(b0, b1), importMs: t1 - t0, openMs: t2 - t1, importCpuMs: cpu(c0, c1), openCpuMs: cpu(c1, c2) }));
`;
const samples = [];
for (let i = 0; i < 15; i++) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  samples.push(JSON.parse(result.stdout));
}
const importMs = median(samples.map((sample) => sample.importMs));
const openMs = median(samples.map((sample) => sample.openMs));
const cpuMs = median(samples.map((sample) => sample.importCpuMs + sample.openCpuMs));
const importCpuMs = median(samples.map((sample) => sample.importCpuMs));
const openCpuMs = median(samples.map((sample) => sample.openCpuMs));
const baselineMs = median(samples.map((sample) => sample.baselineMs));

const report = {
  pairs,
  rounds,
  operations: ops,
  library: { medianMs: Math.round(median(ours)), opsPerSecond: Math.round(ourOps), runsMs: ours.map(Math.round) },
  iproute2Batch: { medianMs: Math.round(median(theirs)), opsPerSecond: Math.round(theirOps), runsMs: theirs.map(Math.round) },
  ratio: Number((ourOps / theirOps).toFixed(3)),
  startup: {
    importMs: Number(importMs.toFixed(2)),
    openMs: Number(openMs.toFixed(2)),
    totalMs: Number((importMs + openMs).toFixed(2)),
    cpuMs: Number(cpuMs.toFixed(2)),
    importCpuMs: Number(importCpuMs.toFixed(2)),
    openCpuMs: Number(openCpuMs.toFixed(2)),
    firstFileImportMs: Number(baselineMs.toFixed(2)),
  },
  loadAverage: (await import('node:os')).loadavg().map((value) => Number(value.toFixed(2))),
};
writeFileSync(join(root, 'bench', 'results', 'netlink.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`@cni/netlink  ${report.library.opsPerSecond} ops/s (median ${report.library.medianMs} ms for ${ops} operations)`);
console.log(`ip -batch     ${report.iproute2Batch.opsPerSecond} ops/s (median ${report.iproute2Batch.medianMs} ms)`);
console.log(`ratio         ${report.ratio} (library / iproute2; 1.0 is parity, goal >= 0.9)`);
console.log(
  `import ${report.startup.importMs} ms + open ${report.startup.openMs} ms = ${report.startup.totalMs} ms in a fresh process ` +
    `(CPU ${report.startup.importCpuMs} + ${report.startup.openCpuMs} ms; goal < 5 ms), after the ESM loader's first file import (${report.startup.firstFileImportMs} ms, paid by any program)`,
);
console.log(`load average ${report.loadAverage.join(' ')} on ${(await import('node:os')).cpus().length} CPUs`);
