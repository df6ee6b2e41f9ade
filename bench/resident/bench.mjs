#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Resident mode side by side: our executables by exec (resident mode off), the same executables
// handing their requests to a `cni-bundle daemon` of 4 warm workers, and the Go reference
// (/usr/lib/cni), in one run, interleaved: VERSION; bridge, ptp and macvlan with host-local (ADD,
// DEL); the chain bridge + host-local, tuning, portmap, bandwidth as libcni drives it (ADD, DEL);
// 20 ADDs at once; peak RSS (one exec'd ADD; the daemon's total after 1,000 requests).
//
//   pnpm run build && node bench/resident/bench.mjs [runs=20]
//
// Needs root. Runs in a host namespace made for the run (bench/compare/lib.mjs), where the daemon
// runs too (it serves only callers in its own network namespace).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addNamespaces,
  deleteNamespaces,
  expectAddress,
  hostIp,
  hostNamespace,
  machine,
  OURS_BIN,
  PLUGIN_PATH,
  REFERENCE_BIN,
  round,
  stateDir,
  stats,
  writeResults,
} from '../compare/lib.mjs';

const context = await hostNamespace(import.meta.url, 'resident');
const positional = context.args.filter((a) => !a.startsWith('--'));
const runs = Number(positional[0] ?? process.env.BENCH_RUNS ?? 20);
// `--only=chain,memory`: some sections alone (version, bridge, ptp, chain, atonce, pods, multinet, memory).
const only = context.args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const section = (name) => only === undefined || only.includes(name);
const AT_ONCE = 20;
const PODS = Number(context.args.find((a) => a.startsWith('--pods='))?.slice(7) ?? 500);
const WORKERS = 4;
const progress = (text) => process.stderr.write(`bench/resident: ${text}\n`);

const socket = join(context.dir, 'run', 'daemon.sock');
const SIDES = [
  { key: 'exec', tag: 'e', bin: OURS_BIN, socket: '' },
  { key: 'resident', tag: 'd', bin: OURS_BIN, socket },
  { key: 'reference', tag: 'r', bin: REFERENCE_BIN, socket: undefined },
];
const sidesFor = (r) => (r % 2 === 0 ? SIDES : [...SIDES].reverse());

function envOf(side, request) {
  const env = { PATH: PLUGIN_PATH, CNI_COMMAND: request.command };
  if (side.socket !== undefined) env.CNI_BUNDLE_SOCKET = side.socket;
  if (request.command !== 'VERSION') {
    env.CNI_CONTAINERID = request.containerId;
    env.CNI_NETNS = `/run/netns/${request.netns}`;
    env.CNI_IFNAME = request.ifname ?? 'eth0';
    env.CNI_PATH = side.bin;
  }
  return env;
}

function run(side, request) {
  const t0 = performance.now();
  const out = spawnSync(join(side.bin, request.conf.type), [], { input: JSON.stringify(request.conf), env: envOf(side, request), encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (out.status !== 0) throw new Error(`${side.key} ${request.conf.type} ${request.command} failed: ${out.stdout}${out.stderr}`);
  return { ms, result: out.stdout.trim() ? JSON.parse(out.stdout) : undefined };
}

function runAsync(side, request) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(join(side.bin, request.conf.type), [], { env: envOf(side, request) });
    let stdout = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve({ ms: performance.now() - t0, end: performance.now(), result: stdout.trim() ? JSON.parse(stdout) : undefined }) : reject(new Error(`${side.key}: ${stdout}`))));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(request.conf));
  });
}

function runList(side, list, request, cached) {
  const plugins = request.command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let prev = request.command === 'DEL' ? cached : undefined;
  const perPlugin = {};
  const t0 = performance.now();
  for (const plugin of plugins) {
    const conf = { cniVersion: list.cniVersion, name: list.name, ...plugin };
    if (plugin.capabilities?.portMappings) conf.runtimeConfig = { portMappings: request.portMappings };
    if (prev !== undefined) conf.prevResult = prev;
    const { ms, result } = run(side, { ...request, conf });
    perPlugin[plugin.type] = ms;
    if (request.command === 'ADD') prev = result;
  }
  return { ms: performance.now() - t0, result: prev, perPlugin };
}

const subnetIndex = { bridge: 0, ptp: 1, macvlan: 2, chain: 3, atonce: 4, pods: 5 };
const subnet = (test, side) => `10.${150 + subnetIndex[test] * 3 + SIDES.indexOf(side)}.0.0/16`;
const hostLocal = (test, side) => ({ type: 'host-local', ranges: [[{ subnet: subnet(test, side) }]], dataDir: stateDir(context, side.key, test, 'ipam') });
const bridgeConf = (test, side) => ({ cniVersion: '1.0.0', name: `${test}-${side.tag}`, type: 'bridge', bridge: `r${test.slice(0, 6)}${side.tag}`, isGateway: true, ipam: hostLocal(test, side) });
const ptpConf = (side) => ({ cniVersion: '1.0.0', name: `ptp-${side.tag}`, type: 'ptp', ipam: hostLocal('ptp', side) });
const macvlanConf = (side) => ({ cniVersion: '1.0.0', name: `macvlan-${side.tag}`, type: 'macvlan', master: `rmv${side.tag}`, mode: 'bridge', ipam: hostLocal('macvlan', side) });
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

// A chain run as libcni runs it, without blocking (several pods at a time).
async function runListAsync(side, list, request, cached) {
  const plugins = request.command === 'DEL' ? [...list.plugins].reverse() : list.plugins;
  let prev = request.command === 'DEL' ? cached : undefined;
  for (const plugin of plugins) {
    const conf = { cniVersion: list.cniVersion, name: list.name, ...plugin };
    if (plugin.capabilities?.portMappings) conf.runtimeConfig = { portMappings: request.portMappings };
    if (prev !== undefined) conf.prevResult = prev;
    const { result } = await runAsync(side, { ...request, conf });
    if (request.command === 'ADD') prev = result;
  }
  return prev;
}

const daemonStatus = () => JSON.parse(spawnSync(join(OURS_BIN, 'cni-bundle'), ['daemon', 'status', '--json', '--socket', socket], { encoding: 'utf8' }).stdout);
const served = () => daemonStatus().requests.reduce((sum, r) => sum + r.served, 0);
/** The daemon's memory: daemon and workers, summed (RSS counts shared pages once per process; PSS shares them out). */
function daemonMemory() {
  const status = daemonStatus();
  const pids = [daemon.pid, ...status.workers.map((w) => w.pid)];
  const field = (pid, name) => {
    try {
      return Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0; // a worker recycled meanwhile
    }
  };
  const sum = (name) => round(pids.reduce((s, pid) => s + field(pid, name), 0));
  const each = pids.map((pid) => `${round(field(pid, 'Rss'))}/${round(field(pid, 'Private_Dirty') + field(pid, 'Private_Clean'))}`).join(' ');
  return { rssMb: sum('Rss'), pssMb: sum('Pss'), privateMb: round(sum('Private_Dirty') + sum('Private_Clean')), each, processes: pids.length, served: status.requests.reduce((s, r) => s + r.served, 0), restarts: status.restarts, recycled: status.recycled };
}
const peak = {
  rssMb: 0,
  pssMb: 0,
  sample() {
    const now = daemonMemory();
    this.rssMb = Math.max(this.rssMb, now.rssMb);
    this.pssMb = Math.max(this.pssMb, now.pssMb);
  },
};

// Multinet (thick mode in the daemon): a pod with three attachments (the default network and two
// NADs from a manifest folder, each a bridge with host-local), ADD then DEL, by exec and resident.
// The Go reference has no multinet (Multus is not in /usr/lib/cni): the ratio is resident / exec.
async function multinetSection() {
  progress(`multinet ADD/DEL, three attachments, x${runs}`);
  const add = sample();
  const del = sample();
  const MODES = SIDES.filter((side) => side.key !== 'reference');
  const nadDir = stateDir(context, 'multinet', 'nads');
  mkdirSync(nadDir, { recursive: true });
  const ipam = (side, n) => ({ type: 'host-local', ranges: [[{ subnet: `10.${200 + n}.${SIDES.indexOf(side)}.0/24` }]], dataDir: stateDir(context, side.key, 'multinet', 'ipam') });
  const names = ['blue', 'green'];
  for (const side of MODES) {
    for (const [n, name] of names.entries()) {
      writeFileSync(join(nadDir, `${name}-${side.tag}.json`), JSON.stringify({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: `${name}-${side.tag}`, namespace: 'web' },
        spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'bridge', bridge: `rmn${n}${side.tag}`, ipam: ipam(side, n + 1) }) },
      }));
    }
  }
  const conf = (side) => ({
    cniVersion: '1.0.0',
    name: `multinet-${side.tag}`,
    type: 'multinet',
    nadDir,
    cniDir: stateDir(context, side.key, 'multinet', 'cache'),
    binDir: side.bin,
    delegates: [{ cniVersion: '1.0.0', name: `pods-${side.tag}`, type: 'bridge', bridge: `rmnd${side.tag}`, ipam: ipam(side, 0) }],
    runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': names.map((name) => `${name}-${side.tag}`).join(',') } },
  });
  const netnsNames = [];
  for (let r = -1; r < runs; r++) for (const side of MODES) netnsNames.push(context.podNs(`mn${side.tag}${r + 1}`));
  addNamespaces(netnsNames);
  try {
    for (let r = -1; r < runs; r++) for (const side of r % 2 === 0 ? MODES : [...MODES].reverse()) {
      const netns = context.podNs(`mn${side.tag}${r + 1}`);
      const request = { containerId: `mn-${side.tag}-${r + 1}`, netns };
      const withArgs = (command) => ({ ...request, command, conf: conf(side) });
      const envFor = (command) => ({ ...envOf(side, withArgs(command)), CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=p${r + 1}` });
      const timed = (command) => {
        const t0 = performance.now();
        const out = spawnSync(join(side.bin, 'multinet'), [], { input: JSON.stringify(conf(side)), env: envFor(command), encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`${side.key} multinet ${command}: ${out.stdout}${out.stderr}`);
        return { ms: performance.now() - t0, result: out.stdout.trim() ? JSON.parse(out.stdout) : undefined };
      };
      const added = timed('ADD');
      if (r < 0) {
        expectAddress(netns, 'eth0', added.result, `${side.key} multinet`);
        const links = JSON.parse(spawnSync('ip', ['-j', '-n', netns, 'link', 'show'], { encoding: 'utf8' }).stdout).map((l) => l.ifname).filter((n) => n !== 'lo');
        if (links.length !== 3) throw new Error(`${side.key} multinet: the pod has ${links.join(', ')}, not three attachments`);
      }
      const deleted = timed('DEL');
      if (r >= 0) {
        add[side.key].push(added.ms);
        del[side.key].push(deleted.ms);
      }
    }
  } finally {
    deleteNamespaces(netnsNames);
  }
  row('multinet ADD, 3 attachments (no Go ref)', 'ms', add);
  row('multinet DEL, 3 attachments', 'ms', del);
  for (const r of rows.slice(-2)) r.residentOverExec = round(r.resident.median / r.exec.median);
  progress(`multinet resident/exec: ADD ${rows.at(-2).residentOverExec}x, DEL ${rows.at(-1).residentOverExec}x`);
}

const rows = [];
const sample = () => ({ exec: [], resident: [], reference: [] });
function row(label, unit, samples, goal, passes) {
  const s = Object.fromEntries(SIDES.map((side) => [side.key, stats(samples[side.key])]));
  const ratio = s.resident.median !== null && s.reference.median ? round(s.resident.median / s.reference.median) : null;
  rows.push({ label, unit, ...s, ratio, goal, ...(passes ? { pass: passes(ratio) } : {}) });
}

// The daemon, in the run's host namespace, from the bundle the run uses.
// `--daemon-log=<file>`: the daemon's debug log (each request's time in the daemon) into a file.
const daemonLog = context.args.find((a) => a.startsWith('--daemon-log='))?.slice(13);
const daemon = spawn(join(OURS_BIN, 'cni-bundle'), ['daemon', '--socket', socket, '--workers', String(WORKERS), '--log-level', daemonLog ? 'debug' : 'warn'], {
  stdio: ['ignore', 'ignore', daemonLog ? openSync(daemonLog, 'w') : 'inherit'],
});
try {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = spawnSync(join(OURS_BIN, 'cni-bundle'), ['daemon', 'status', '--json', '--socket', socket], { encoding: 'utf8' });
    if (status.status === 0 && JSON.parse(status.stdout).workers.filter((w) => w.state === 'idle').length === WORKERS) break;
    if (Date.now() > deadline) throw new Error('the daemon did not become ready in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  if (section('version')) {
    progress(`VERSION x${runs}`);
    const s = sample();
    for (let r = -1; r < runs; r++) for (const side of sidesFor(r)) {
      const { ms } = run(side, { command: 'VERSION', conf: { cniVersion: '1.0.0', type: 'bridge' } });
      if (r >= 0) s[side.key].push(ms);
    }
    row('VERSION (bridge)', 'ms', s, '<= 0.8x', (x) => x <= 0.8);
  }

  const addDel = (test, makeConf) => {
    progress(`${test} ADD/DEL x${runs}`);
    const add = sample();
    const del = sample();
    const names = [];
    for (let r = -1; r < runs; r++) for (const side of SIDES) names.push(context.podNs(`${test.slice(0, 3)}${side.tag}${r + 1}`));
    addNamespaces(names);
    try {
      for (let r = -1; r < runs; r++) for (const side of sidesFor(r)) {
        const netns = context.podNs(`${test.slice(0, 3)}${side.tag}${r + 1}`);
        const conf = makeConf(side);
        const request = { containerId: `${test}-${side.tag}-${r + 1}`, netns };
        const added = run(side, { ...request, command: 'ADD', conf });
        if (r < 0) expectAddress(netns, 'eth0', added.result, `${side.key} ${test}`);
        const deleted = run(side, { ...request, command: 'DEL', conf: { ...conf, prevResult: added.result } });
        if (r >= 0) {
          add[side.key].push(added.ms);
          del[side.key].push(deleted.ms);
        }
      }
    } finally {
      deleteNamespaces(names);
    }
    return { add, del };
  };

  if (section('bridge')) {
    const { add, del } = addDel('bridge', (side) => bridgeConf('bridge', side));
    row('bridge+host-local ADD', 'ms', add, '<= 0.8x', (x) => x <= 0.8);
    row('bridge+host-local DEL', 'ms', del);
  }
  if (section('ptp')) {
    const { add, del } = addDel('ptp', ptpConf);
    row('ptp+host-local ADD', 'ms', add);
    row('ptp+host-local DEL', 'ms', del);
    for (const side of SIDES) {
      hostIp('link', 'add', `rmv${side.tag}`, 'type', 'veth', 'peer', 'name', `rmv${side.tag}p`);
      hostIp('link', 'set', `rmv${side.tag}`, 'up');
    }
    const mac = addDel('macvlan', macvlanConf);
    row('macvlan+host-local ADD', 'ms', mac.add);
    row('macvlan+host-local DEL', 'ms', mac.del);
  }

  if (section('chain')) {
    progress(`chain ADD/DEL x${runs}`);
    const add = sample();
    const del = sample();
    const delBy = {};
    const names = [];
    for (let r = -1; r < runs; r++) for (const side of SIDES) names.push(context.podNs(`chn${side.tag}${r + 1}`));
    addNamespaces(names);
    try {
      for (let r = -1; r < runs; r++) for (const side of sidesFor(r)) {
        const request = { containerId: `chain-${side.tag}-${r + 1}`, netns: context.podNs(`chn${side.tag}${r + 1}`), portMappings: [{ hostPort: 21000 + r + 1, containerPort: 80, protocol: 'tcp' }] };
        const added = runList(side, chainList(side), { ...request, command: 'ADD' });
        if (r < 0) expectAddress(request.netns, 'eth0', added.result, `${side.key} chain`);
        const deleted = runList(side, chainList(side), { ...request, command: 'DEL' }, added.result);
        if (r >= 0) {
          add[side.key].push(added.ms);
          del[side.key].push(deleted.ms);
          for (const [type, ms] of Object.entries(deleted.perPlugin)) ((delBy[type] ??= sample())[side.key]).push(ms);
        }
      }
    } finally {
      deleteNamespaces(names);
    }
    row('chain ADD (bridge,tuning,portmap,bandwidth)', 'ms', add, '<= 0.6x', (x) => x <= 0.6);
    row('chain DEL', 'ms', del, '<= 0.5x', (x) => x <= 0.5);
    for (const [type, samples] of Object.entries(delBy)) row(`  chain DEL: ${type}`, 'ms', samples);
  }

  if (section('atonce')) {
    const rounds = Math.max(3, Math.round(runs / 4));
    progress(`${AT_ONCE} ADDs at once x${rounds}`);
    const wall = sample();
    for (let r = 0; r < rounds; r++) for (const side of sidesFor(r)) {
      const names = Array.from({ length: AT_ONCE }, (_, i) => context.podNs(`ao${side.tag}${r}x${i}`));
      addNamespaces(names);
      try {
        const t0 = performance.now();
        const outcomes = await Promise.all(names.map((netns, i) => runAsync(side, { command: 'ADD', containerId: `ao-${side.tag}-${r}-${i}`, netns, conf: bridgeConf('atonce', side) })));
        wall[side.key].push(Math.max(...outcomes.map((o) => o.end)) - t0);
        await Promise.all(names.map((netns, i) => runAsync(side, { command: 'DEL', containerId: `ao-${side.tag}-${r}-${i}`, netns, conf: bridgeConf('atonce', side) }).catch(() => {})));
      } finally {
        deleteNamespaces(names);
      }
    }
    row(`${AT_ONCE} bridge ADDs at once (wall)`, 'ms', wall, '<= 1x', (x) => x <= 1);
  }

  if (section('pods')) {
    // Many pods on one bridge: an ADD at pod N must cost what it cost at pod 1 (no state that grows
    // per pod: leases, the result cache, the bridge's ports).
    progress(`${PODS} pods, one after another`);
    const first = sample();
    const last = sample();
    for (const side of SIDES) {
      const names = Array.from({ length: PODS }, (_, i) => context.podNs(`p${side.tag}${i}`));
      addNamespaces(names);
      try {
        const conf = bridgeConf('pods', side);
        for (let i = 0; i < PODS; i++) {
          const { ms } = run(side, { command: 'ADD', containerId: `pod-${side.tag}-${i}`, netns: names[i], conf });
          if (i < 10) first[side.key].push(ms);
          if (i >= PODS - 10) last[side.key].push(ms);
          if (side.key === 'resident' && i % 50 === 0) peak.sample();
        }
        for (let i = 0; i < PODS; i++) run(side, { command: 'DEL', containerId: `pod-${side.tag}-${i}`, netns: names[i], conf });
      } finally {
        deleteNamespaces(names);
      }
    }
    row('bridge ADD, pods 1-10', 'ms', first);
    row(`bridge ADD, pods ${PODS - 9}-${PODS}`, 'ms', last);
    const growth = Object.fromEntries(SIDES.map((side) => [side.key, round(stats(last[side.key]).median / stats(first[side.key]).median)]));
    rows.at(-1).growth = growth;
    progress(`ADD at pod ${PODS} / pod 1: ${SIDES.map((side) => `${side.key} ${growth[side.key]}x`).join(', ')}`);
  }

  if (section('memory')) {
    progress('peak RSS');
    const rss = { exec: [], resident: [], reference: [] };
    const netns = context.podNs('rss');
    addNamespaces([netns]);
    try {
      for (const side of [SIDES[0], SIDES[2]]) {
        for (let r = 0; r < 3; r++) {
          const conf = bridgeConf('bridge', side);
          const env = envOf(side, { command: 'ADD', containerId: `rss-${side.tag}-${r}`, netns });
          const out = spawnSync('/usr/bin/time', ['-f', '%M', join(side.bin, 'bridge')], { input: JSON.stringify(conf), env, encoding: 'utf8' });
          rss[side.key].push(Number(out.stderr.trim().split('\n').pop()) / 1024);
          run(side, { command: 'DEL', containerId: `rss-${side.tag}-${r}`, netns, conf });
        }
      }
    } finally {
      deleteNamespaces([netns]);
    }
    // The daemon's total after 1,000 mixed requests all told: the chain's ADD and DEL (bridge with
    // host-local, tuning, portmap, bandwidth) of WORKERS pods at a time, and VERSIONs.
    const side = SIDES[1];
    let count = served();
    for (let batch = 0; count < 1000; batch++) {
      const names = Array.from({ length: WORKERS }, (_, i) => context.podNs(`m${batch}x${i}`));
      addNamespaces(names);
      try {
        await Promise.all(
          names.map(async (netns, i) => {
            const request = { containerId: `mem-${batch}-${i}`, netns, portMappings: [{ hostPort: 22000 + i, containerPort: 80, protocol: 'tcp' }] };
            const added = await runListAsync(side, chainList(side), { ...request, command: 'ADD' });
            await runListAsync(side, chainList(side), { ...request, command: 'DEL' }, added);
            await runAsync(side, { command: 'VERSION', conf: { cniVersion: '1.0.0', type: 'bridge' } });
          }),
        );
      } finally {
        deleteNamespaces(names);
      }
      peak.sample();
      count = served();
    }
    const now = daemonMemory();
    rss.resident.push(now.rssMb);
    row("peak RSS (one exec'd ADD; resident: daemon + workers, summed)", 'MB', rss);
    rows.at(-1).daemon = now;
  }

  if (section('multinet')) await multinetSection();
} finally {
  daemon.kill('SIGTERM');
  await new Promise((resolve) => (daemon.exitCode !== null ? resolve() : daemon.once('exit', resolve)));
}

const fmt = (v) => (v === null || v === undefined ? '-' : v.toFixed(v < 10 ? 2 : 1));
const header = ['measure', 'unit', 'exec med', 'resident med', 'resident p90', 'ref med', 'resident/ref', 'exec/ref', 'resident/exec', 'goal', 'result'];
const lines = rows.map((r) => [
  r.label,
  r.unit,
  fmt(r.exec.median),
  fmt(r.resident.median),
  fmt(r.resident.p90),
  fmt(r.reference.median),
  r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
  r.exec.median !== null && r.reference.median ? `${(r.exec.median / r.reference.median).toFixed(2)}x` : '-',
  r.exec.median && r.resident.median !== null ? `${(r.resident.median / r.exec.median).toFixed(2)}x` : '-',
  r.goal ?? '',
  r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS',
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const render = (cells) => cells.map((c, i) => (i >= 2 && i <= 8 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
const daemonRow = rows.find((r) => r.daemon)?.daemon;
console.log([`resident mode: exec, resident (${WORKERS} workers) and the Go reference (${REFERENCE_BIN}), ${runs} runs`, render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n'));
if (daemonRow) console.log(`daemon after ${daemonRow.served} requests: ${daemonRow.processes} processes, RSS ${daemonRow.rssMb} MB summed (PSS ${daemonRow.pssMb} MB, private ${daemonRow.privateMb} MB; RSS/private by process, daemon first: ${daemonRow.each}), restarts ${daemonRow.restarts}, recycled ${daemonRow.recycled}; goal < 200 MB: ${daemonRow.rssMb < 200 ? 'pass' : daemonRow.pssMb < 200 ? 'MISS by RSS (shared pages counted per process), pass by PSS' : 'MISS'}`);
console.log(`peak daemon memory sampled during the run: RSS ${peak.rssMb} MB summed, PSS ${peak.pssMb} MB`);
const growth = rows.find((r) => r.growth)?.growth;
if (growth) console.log(`bridge ADD at pod ${PODS} / pod 1 (medians of 10): ${SIDES.map((side) => `${side.key} ${growth[side.key]}x`).join(', ')}; goal resident <= 1.2x: ${growth.resident <= 1.2 ? 'pass' : 'MISS'}`);
writeResults('resident', { machine: machine(), runs, workers: WORKERS, rows, peak: { rssMb: peak.rssMb, pssMb: peak.pssMb } });
