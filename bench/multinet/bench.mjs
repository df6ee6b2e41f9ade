#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A pod with three attachments (bridge on eth0, macvlan on net1, ptp on net2, each with host-local;
// the NADs from a folder of manifests) added and deleted through our multinet executable, against the
// same three attachments run one after another through the Go reference binaries: the least a Go meta
// plugin spends on them. Beside them, the same three of our plugins run one after another, which is
// what multinet would cost without in-process delegation. Goal (issue 11): ADD within 1.25 times the
// reference's sum.
//
//   pnpm run build && node bench/multinet/bench.mjs [runs=30]
//
// Needs root; runs in a host namespace made for the run (see ../compare/lib.mjs) and removes all of it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addNamespaces,
  deleteNamespaces,
  hostIp,
  hostNamespace,
  machine,
  OURS_BIN,
  printTable,
  requireExecutables,
  round,
  runPlugin,
  SIDES,
  sidesFor,
  stateDir,
  stats,
  writeResults,
} from '../compare/lib.mjs';

const context = await hostNamespace(import.meta.url, 'multinet');
const runs = Number(context.args[0] ?? process.env.BENCH_RUNS ?? 30);
requireExecutables(['bridge', 'host-local', 'ptp', 'macvlan']);
const [ours, reference] = SIDES;
const progress = (text) => process.stderr.write(`bench/multinet: ${text}\n`);

// The three networks of a side, as NAD configurations: a bridge and subnets per side, one macvlan master per side.
function networks(side) {
  const ipam = (subnet, test) => ({ type: 'host-local', ranges: [[{ subnet }]], dataDir: stateDir(context, side.key, test, 'ipam') });
  const third = side.tag === 'o' ? 0 : 1;
  return [
    { name: 'bridge-net', namespace: 'kube-system', ifname: 'eth0', config: { cniVersion: '1.0.0', type: 'bridge', bridge: `bmn${side.tag}`, isGateway: true, ipam: ipam(`10.${230 + third}.0.0/16`, 'bridge') } },
    { name: 'macvlan-net', namespace: 'default', ifname: 'net1', config: { cniVersion: '1.0.0', type: 'macvlan', master: `mvn${side.tag}`, mode: 'bridge', ipam: ipam(`10.${232 + third}.0.0/16`, 'macvlan') } },
    { name: 'ptp-net', namespace: 'default', ifname: 'net2', config: { cniVersion: '1.0.0', type: 'ptp', ipam: ipam(`10.${234 + third}.0.0/16`, 'ptp') } },
  ];
}

// multinet's side: the NADs as manifest files, the default network named by clusterNetwork (a NAD in
// kube-system), the other two selected by the pod's annotation as the runtime passes it.
const nadDir = stateDir(context, 'multinet', 'nads');
for (const nad of networks(ours)) {
  const manifest = {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name: nad.name, namespace: nad.namespace },
    spec: { config: JSON.stringify(nad.config) },
  };
  writeFileSync(join(nadDir, `${nad.name}.json`), JSON.stringify(manifest, null, 2));
}
const multinetConf = {
  cniVersion: '1.0.0',
  name: 'multinet',
  type: 'multinet',
  nadDir,
  cniDir: stateDir(context, 'multinet', 'cache'),
  binDir: OURS_BIN,
  clusterNetwork: 'bridge-net',
  runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'macvlan-net,ptp-net' } },
};

for (const side of SIDES) {
  hostIp('link', 'add', `mvn${side.tag}`, 'type', 'veth', 'peer', 'name', `mvn${side.tag}p`);
  hostIp('link', 'set', `mvn${side.tag}`, 'up');
}

/** Checks once, in the warm-up round, that a pod got its three interfaces (read with iproute2, not our code). */
function expectInterfaces(netns, who) {
  const links = JSON.parse(hostIp('-j', '-n', netns, 'link', 'show').stdout).map((link) => link.ifname).sort();
  if (links.join(',') !== 'eth0,lo,net1,net2') throw new Error(`${who}: the pod has ${links.join(', ')}, not lo, eth0, net1, net2`);
}

/** The three attachments one after another, as a meta plugin without in-process delegation would run them. */
function oneAfterAnother(side, netns, containerId, command, cached) {
  const list = networks(side);
  const order = command === 'DEL' ? [...list].reverse() : list;
  const results = {};
  const t0 = performance.now();
  for (const nad of order) {
    const conf = { ...nad.config, name: nad.name };
    if (command === 'DEL' && cached?.[nad.name]) conf.prevResult = cached[nad.name];
    results[nad.name] = runPlugin(side, { command, containerId, netns, ifname: nad.ifname, conf }).result;
  }
  return { ms: performance.now() - t0, results };
}

progress(`pods with three attachments x${runs}`);
const samples = { multinetAdd: [], multinetDel: [], oursSumAdd: [], oursSumDel: [], referenceAdd: [], referenceDel: [] };
const names = [];
for (let r = -1; r < runs; r++) for (const key of ['m', 'o', 'r']) names.push(context.podNs(`mn${key}${r + 1}`));
addNamespaces(names);
try {
  for (let r = -1; r < runs; r++) {
    const count = r >= 0;
    // Which goes first alternates; ours as multinet and as single plugins both count as "ours".
    const order = sidesFor(r)[0] === ours ? ['multinet', 'ours', 'reference'] : ['reference', 'ours', 'multinet'];
    for (const who of order) {
      if (who === 'multinet') {
        const netns = context.podNs(`mnm${r + 1}`);
        const request = { containerId: `mn-m-${r + 1}`, netns, ifname: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-${r + 1}` };
        const added = runPlugin(ours, { ...request, command: 'ADD', conf: multinetConf });
        const ips = added.result?.ips?.map((ip) => ip.address) ?? [];
        if (ips.length === 0) throw new Error(`multinet ADD returned no address: ${JSON.stringify(added.result)}`);
        if (!count) expectInterfaces(netns, 'multinet');
        const deleted = runPlugin(ours, { ...request, command: 'DEL', conf: { ...multinetConf, prevResult: added.result } });
        if (count) {
          samples.multinetAdd.push(added.ms);
          samples.multinetDel.push(deleted.ms);
        }
      } else {
        const side = who === 'ours' ? ours : reference;
        const netns = context.podNs(`mn${side.tag}${r + 1}`);
        const containerId = `mn-${side.tag}-${r + 1}`;
        const added = oneAfterAnother(side, netns, containerId, 'ADD');
        if (!count) expectInterfaces(netns, side.key);
        const deleted = oneAfterAnother(side, netns, containerId, 'DEL', added.results);
        if (count) {
          samples[`${who === 'ours' ? 'oursSum' : 'reference'}Add`].push(added.ms);
          samples[`${who === 'ours' ? 'oursSum' : 'reference'}Del`].push(deleted.ms);
        }
      }
    }
  }
} finally {
  deleteNamespaces(names);
}

const rows = [];
function row(label, oursValues, referenceValues, goal, passes) {
  const o = stats(oursValues);
  const ref = stats(referenceValues);
  const ratio = o.median / ref.median;
  const entry = { label, unit: 'ms', ours: o, reference: ref, ratio: round(ratio), goal };
  if (passes) entry.pass = passes(ratio);
  rows.push(entry);
}
row('3 attachments ADD: multinet vs ref. sum', samples.multinetAdd, samples.referenceAdd, '<= 1.25x', (ratio) => ratio <= 1.25);
row('3 attachments DEL: multinet vs ref. sum', samples.multinetDel, samples.referenceDel, 'reported');
row('3 attachments ADD: our 3 plugins, sum', samples.oursSumAdd, samples.referenceAdd);
row('3 attachments DEL: our 3 plugins, sum', samples.oursSumDel, samples.referenceDel);

const table = printTable(`multinet (bridge + macvlan + ptp, host-local, NADs from files) vs the Go reference run one after another; medians of ${runs} runs`, rows);
writeResults('multinet', { ...machine(), parameters: { runs }, rows, table });
