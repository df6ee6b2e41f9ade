#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Our executables (apps/cni-bundle/dist/bin) side by side with the Go reference (/usr/lib/cni), in one
// run, interleaved: VERSION; bridge, ptp and macvlan with host-local (ADD, DEL); the chain bridge +
// host-local, tuning, portmap, bandwidth as libcni drives it (ADD, DEL); 20 ADDs at once; pods added
// one after another on one bridge (cost at the last ten against the first ten); peak RSS of one ADD.
//
//   pnpm run build && node bench/compare/bench.mjs [runs=30] [pods=500]
//
// Needs root. Everything happens in a host namespace made for the run (the driver runs inside it, so
// no plugin pays `ip netns exec`) and in pod namespaces made in it; state in a temporary folder; all of
// it is removed at the end, also after a failure or Ctrl-C. Plugins get `env -i` plus the CNI
// variables and PATH, as a runtime runs them.
import { spawnSync } from 'node:child_process';
import {
  addNamespaces,
  deleteNamespaces,
  expectAddress,
  hostIp,
  hostNamespace,
  machine,
  OURS_SOURCE,
  peakRssKb,
  printTable,
  REFERENCE_BIN,
  requireExecutables,
  round,
  runList,
  runPlugin,
  runPluginAsync,
  shown,
  SIDES,
  sidesFor,
  stateDir,
  stats,
  writeResults,
} from './lib.mjs';

const context = await hostNamespace(import.meta.url, 'compare');
const runs = Number(context.args[0] ?? process.env.BENCH_RUNS ?? 30);
const podCount = Number(context.args[1] ?? process.env.BENCH_PODS ?? 500);
const AT_ONCE = 20;
const atOnceRounds = Math.max(3, Math.round(runs / 3));
const rssRuns = Math.max(3, Math.round(runs / 3));
requireExecutables(['bridge', 'host-local', 'ptp', 'macvlan', 'tuning', 'portmap', 'bandwidth']);

const progress = (text) => process.stderr.write(`bench/compare: ${text}\n`);

// Each test and side has its own bridge, subnet and host-local store, so neither side sees the other's
// leases; both share the host namespace, as two networks on one node do.
const subnetIndex = { bridge: 0, ptp: 1, macvlan: 2, chain: 3, atonce: 4, scale: 5, rss: 6 };
const subnet = (test, side) => `10.${200 + subnetIndex[test] * 2 + (side.tag === 'o' ? 0 : 1)}.0.0/16`;
const hostLocal = (test, side) => ({ type: 'host-local', ranges: [[{ subnet: subnet(test, side) }]], dataDir: stateDir(context, side.key, test, 'ipam') });
const bridgeConf = (test, side) => ({
  cniVersion: '1.0.0',
  name: `${test}-${side.tag}`,
  type: 'bridge',
  bridge: `b${test.slice(0, 6)}${side.tag}`,
  isGateway: true,
  ipam: hostLocal(test, side),
});
const ptpConf = (side) => ({ cniVersion: '1.0.0', name: `ptp-${side.tag}`, type: 'ptp', ipam: hostLocal('ptp', side) });
const macvlanConf = (side) => ({ cniVersion: '1.0.0', name: `macvlan-${side.tag}`, type: 'macvlan', master: `mv${side.tag}`, mode: 'bridge', ipam: hostLocal('macvlan', side) });
const chainList = (side) => ({
  cniVersion: '1.0.0',
  name: `chain-${side.tag}`,
  plugins: [
    (({ cniVersion, name, ...rest }) => rest)(bridgeConf('chain', side)),
    { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' }, dataDir: stateDir(context, side.key, 'chain', 'tuning') },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    { type: 'bandwidth', ingressRate: 10_000_000, ingressBurst: 1_000_000, egressRate: 10_000_000, egressBurst: 1_000_000 },
  ],
});

const sample = () => ({ ours: [], reference: [] });
const rows = [];
const details = {};

function row(label, unit, samples, goal, passes) {
  const ours = stats(samples.ours);
  const reference = stats(samples.reference);
  const ratio = ours.median !== null && reference.median ? ours.median / reference.median : null;
  const entry = { label, unit, ours, reference, ratio: round(ratio), goal };
  if (passes) entry.pass = passes(ratio, ours, reference);
  rows.push(entry);
  return entry;
}

// What spawning alone costs the driver, the floor under every figure of both sides.
{
  const floor = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    spawnSync('/bin/true', [], { env: {}, input: '{}' });
    floor.push(performance.now() - t0);
  }
  details.spawnFloorMs = stats(floor);
}

// 1. VERSION
{
  progress(`VERSION x${runs}`);
  const samples = sample();
  for (let r = -1; r < runs; r++) {
    for (const side of sidesFor(r)) {
      const { ms } = runPlugin(side, { command: 'VERSION', conf: { cniVersion: '1.0.0', type: 'bridge' } });
      if (r >= 0) samples[side.key].push(ms);
    }
  }
  row('VERSION (bridge)', 'ms', samples);
}

/** ADD then DEL of one plugin in a fresh pod namespace per run; the first round warms up and is not counted. */
function addDel(test, makeConf) {
  progress(`${test} ADD/DEL x${runs}`);
  const add = sample();
  const del = sample();
  const names = [];
  for (let r = -1; r < runs; r++) for (const side of SIDES) names.push(context.podNs(`${test.slice(0, 3)}${side.tag}${r + 1}`));
  addNamespaces(names);
  try {
    for (let r = -1; r < runs; r++) {
      for (const side of sidesFor(r)) {
        const netns = context.podNs(`${test.slice(0, 3)}${side.tag}${r + 1}`);
        const conf = makeConf(side);
        const request = { containerId: `${test}-${side.tag}-${r + 1}`, netns, ifname: 'eth0' };
        const added = runPlugin(side, { ...request, command: 'ADD', conf });
        if (r < 0) expectAddress(netns, 'eth0', added.result, `${side.key} ${test}`);
        const deleted = runPlugin(side, { ...request, command: 'DEL', conf: { ...conf, prevResult: added.result } });
        if (r >= 0) {
          add[side.key].push(added.ms);
          del[side.key].push(deleted.ms);
        }
      }
    }
  } finally {
    deleteNamespaces(names);
  }
  return { add, del };
}

// 2. bridge + host-local
{
  const { add, del } = addDel('bridge', (side) => bridgeConf('bridge', side));
  row('bridge+host-local ADD', 'ms', add, '<= 3x', (ratio) => ratio <= 3);
  row('bridge+host-local DEL', 'ms', del, '<= 2x', (ratio) => ratio <= 2);
}

// 3. ptp + host-local, macvlan + host-local (masters: a veth per side in the host namespace)
{
  const { add, del } = addDel('ptp', ptpConf);
  row('ptp+host-local ADD', 'ms', add);
  row('ptp+host-local DEL', 'ms', del);
  // A veth end rather than a dummy: the test machines' kernels may have no dummy driver.
  for (const side of SIDES) {
    hostIp('link', 'add', `mv${side.tag}`, 'type', 'veth', 'peer', 'name', `mv${side.tag}p`);
    hostIp('link', 'set', `mv${side.tag}`, 'up');
  }
  const mac = addDel('macvlan', macvlanConf);
  row('macvlan+host-local ADD', 'ms', mac.add);
  row('macvlan+host-local DEL', 'ms', mac.del);
}

// 4. the chain, driven as libcni drives a list, by the same driver for both sides
{
  progress(`chain ADD/DEL x${runs}`);
  const add = sample();
  const del = sample();
  const perPlugin = { ours: {}, reference: {} };
  const names = [];
  for (let r = -1; r < runs; r++) for (const side of SIDES) names.push(context.podNs(`chn${side.tag}${r + 1}`));
  addNamespaces(names);
  try {
    for (let r = -1; r < runs; r++) {
      for (const side of sidesFor(r)) {
        const list = chainList(side);
        const request = {
          containerId: `chain-${side.tag}-${r + 1}`,
          netns: context.podNs(`chn${side.tag}${r + 1}`),
          ifname: 'eth0',
          runtimeConfig: { portMappings: [{ hostPort: 20000 + r + 1, containerPort: 80, protocol: 'tcp' }] },
        };
        const added = runList(side, list, { ...request, command: 'ADD' });
        if (r < 0) expectAddress(request.netns, 'eth0', added.result, `${side.key} chain`);
        const deleted = runList(side, list, { ...request, command: 'DEL' }, added.result);
        if (r < 0) continue;
        add[side.key].push(added.ms);
        del[side.key].push(deleted.ms);
        for (const [verb, outcome] of [['ADD', added], ['DEL', deleted]]) {
          for (const { type, ms } of outcome.perPlugin) (perPlugin[side.key][`${type} ${verb}`] ??= []).push(ms);
        }
      }
    }
  } finally {
    deleteNamespaces(names);
  }
  row('chain ADD (bridge,tuning,portmap,bandwidth)', 'ms', add, '<= 2.5x', (ratio) => ratio <= 2.5);
  row('chain DEL', 'ms', del, '< 1x', (ratio) => ratio < 1);
  details.chainPerPlugin = Object.fromEntries(
    Object.entries(perPlugin).map(([side, byPlugin]) => [side, Object.fromEntries(Object.entries(byPlugin).map(([key, values]) => [key, stats(values).median]))]),
  );
}

// 5. peak RSS of one bridge + host-local ADD (the plugin and its delegate, whichever is larger)
{
  progress(`peak RSS x${rssRuns}`);
  const rss = sample();
  const names = [];
  for (let r = 0; r < rssRuns; r++) for (const side of SIDES) names.push(context.podNs(`rss${side.tag}${r}`));
  addNamespaces(names);
  try {
    for (let r = 0; r < rssRuns; r++) {
      for (const side of sidesFor(r)) {
        const conf = bridgeConf('rss', side);
        const request = { containerId: `rss-${side.tag}-${r}`, netns: context.podNs(`rss${side.tag}${r}`), ifname: 'eth0' };
        rss[side.key].push(peakRssKb(side, { ...request, command: 'ADD', conf }) / 1024);
        runPlugin(side, { ...request, command: 'DEL', conf });
      }
    }
  } finally {
    deleteNamespaces(names);
  }
  row('peak RSS, bridge+host-local ADD', 'MB', rss, '< 60 MB', (_ratio, ours) => ours.median < 60);
}

// 6. 20 ADDs at once on one bridge: wall time from the first spawn to the last exit; no address twice
{
  progress(`${AT_ONCE} ADDs at once x${atOnceRounds}`);
  const wall = sample();
  const duplicates = { ours: 0, reference: 0 };
  for (let r = -1; r < atOnceRounds; r++) {
    for (const side of sidesFor(r)) {
      const conf = bridgeConf('atonce', side);
      const names = Array.from({ length: AT_ONCE }, (_, i) => context.podNs(`ato${side.tag}${i}`));
      addNamespaces(names);
      try {
        const requests = names.map((netns, i) => ({ containerId: `atonce-${side.tag}-${r + 1}-${i}`, netns, ifname: 'eth0', conf }));
        const t0 = performance.now();
        const outcomes = await Promise.all(requests.map((request) => runPluginAsync(side, { ...request, command: 'ADD' })));
        const ms = Math.max(...outcomes.map((outcome) => outcome.end)) - t0;
        const addresses = outcomes.map((outcome) => outcome.result.ips[0].address);
        duplicates[side.key] += addresses.length - new Set(addresses).size;
        await Promise.all(requests.map((request, i) => runPluginAsync(side, { ...request, command: 'DEL', conf: { ...conf, prevResult: outcomes[i].result } })));
        if (r >= 0) wall[side.key].push(ms);
      } finally {
        deleteNamespaces(names);
      }
    }
  }
  details.atOnceDuplicates = duplicates;
  row(`${AT_ONCE} ADDs at once (wall)`, 'ms', wall, '<= 3x, no dup', (ratio) => ratio <= 3 && duplicates.ours === 0);
}

// 7. pods added one after another on one bridge, none removed: does an ADD get dearer as pods pile up?
{
  progress(`${podCount} pods one after another (each side, interleaved)`);
  const times = sample();
  const names = [];
  for (let i = 0; i < podCount; i++) for (const side of SIDES) names.push(context.podNs(`s${side.tag}${i}`));
  addNamespaces(names);
  try {
    for (let i = 0; i < podCount; i++) {
      for (const side of sidesFor(i)) {
        const conf = bridgeConf('scale', side);
        const { ms } = runPlugin(side, { command: 'ADD', containerId: `scale-${side.tag}-${i}`, netns: context.podNs(`s${side.tag}${i}`), ifname: 'eth0', conf });
        times[side.key].push(ms);
      }
      if ((i + 1) % 100 === 0) progress(`  ${i + 1} pods`);
    }
    // Every pod is still there: the bridge has a port for each.
    for (const side of SIDES) {
      const ports = JSON.parse(hostIp('-j', 'link', 'show', 'master', `bscale${side.tag}`).stdout).length;
      if (ports !== podCount) throw new Error(`${side.key}: bridge "bscale${side.tag}" has ${ports} ports, not ${podCount}`);
    }
  } finally {
    deleteNamespaces(names);
  }
  const window = Math.min(10, Math.floor(podCount / 2));
  const first = { ours: times.ours.slice(0, window), reference: times.reference.slice(0, window) };
  const last = { ours: times.ours.slice(-window), reference: times.reference.slice(-window) };
  row(`pods 1-${window}: ADD`, 'ms', first);
  row(`pods ${podCount - window + 1}-${podCount}: ADD`, 'ms', last);
  const growth = (key) => stats(last[key]).median / stats(first[key]).median;
  const entry = {
    label: `growth, pods ${podCount - window + 1}-${podCount} / 1-${window}`,
    unit: 'x',
    ours: { median: round(growth('ours')), p90: null },
    reference: { median: round(growth('reference')), p90: null },
    ratio: null,
    goal: 'ours <= 1.2',
  };
  entry.pass = entry.ours.median <= 1.2;
  rows.push(entry);
  details.scale = { pods: podCount, first, last };
}

const table = printTable(`CNI plugins, ours (${shown(OURS_SOURCE)}) vs the Go reference (${shown(REFERENCE_BIN)}); medians of ${runs} runs`, rows);
for (const side of SIDES) {
  const parts = Object.entries(details.chainPerPlugin[side.key]).map(([key, ms]) => `${key} ${ms}`);
  console.log(`chain per plugin, ${side.key} (median ms): ${parts.join(', ')}`);
}
console.log(`${AT_ONCE} ADDs at once: addresses handed out twice: ours ${details.atOnceDuplicates.ours}, reference ${details.atOnceDuplicates.reference}`);
console.log(`driver's spawn floor (/bin/true): median ${details.spawnFloorMs.median} ms, in every figure of both sides`);
writeResults('compare', { ...machine(), parameters: { runs, pods: podCount, atOnce: AT_ONCE, atOnceRounds, rssRuns }, rows, details, table });
