// SPDX-License-Identifier: Apache-2.0
// Crash safety of every plugin that creates something, on the host kernel (the link kinds it
// lacks are in crash.vm.test.ts): see harness.ts. CNI_CRASH_SEED changes the seed (printed with
// every failure), CNI_CRASH_TRIALS the trials per scenario.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, useTestNetns } from '@cni/testkit';
import { describe, it } from 'vitest';
import { hostLocal, runCrashTrials, type Scenario } from './harness.ts';

const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../apps/cni-bundle/dist/bin', import.meta.url));
const OPTIONS = { bundle: BUNDLE, seed: Number(process.env['CNI_CRASH_SEED'] ?? 22), trials: Number(process.env['CNI_CRASH_TRIALS'] ?? 8) };

const SCENARIOS: Scenario[] = [
  { name: 'bridge', steps: (netns) => [{ type: 'bridge', conf: { bridge: 'crbr0', isGateway: true, ipMasq: true, ipam: hostLocal(netns, '10.61.0.0/24') } }] },
  { name: 'ptp', steps: (netns) => [{ type: 'ptp', conf: { ipMasq: true, ipam: hostLocal(netns, '10.62.0.0/24') } }] },
  { name: 'macvlan', steps: (netns) => [{ type: 'macvlan', conf: { master: 'uplink0', mode: 'bridge', ipam: hostLocal(netns, '10.63.0.0/24') } }] },
  { name: 'tap', steps: (netns) => [{ type: 'tap', conf: { mtu: 1400, ipam: hostLocal(netns, '10.64.0.0/24') } }] },
  {
    name: 'host-device',
    setup: async (netns) => {
      await run(['ip', '-n', netns.host.name, 'link', 'add', 'crdev0', 'type', 'veth', 'peer', 'name', 'crdev0p']);
    },
    steps: () => [{ type: 'host-device', conf: { device: 'crdev0', ipam: { type: 'static', addresses: [{ address: '10.65.0.2/24' }] } } }],
  },
  {
    name: 'bridge, tuning, portmap, bandwidth',
    steps: (netns) => [
      { type: 'bridge', conf: { bridge: 'crbr1', isGateway: true, ipMasq: true, ipam: hostLocal(netns, '10.66.0.0/24') } },
      { type: 'tuning', conf: { mtu: 1400, promisc: true, sysctl: { 'net.ipv4.conf.eth0.rp_filter': '1' }, dataDir: join(netns.dir, 'tuning') } },
      { type: 'portmap', conf: { snat: true, capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] } } },
      { type: 'bandwidth', conf: { ingressRate: 1_000_000, ingressBurst: 100_000, egressRate: 1_000_000, egressBurst: 100_000 } },
    ],
  },
  {
    // The meta plugins that write rules: firewall's chains and sbr's policy routing.
    name: 'ptp, firewall, sbr',
    steps: (netns) => [
      { type: 'ptp', conf: { ipMasq: false, ipam: hostLocal(netns, '10.67.0.0/24') } },
      { type: 'firewall', conf: { backend: 'iptables' } },
      { type: 'sbr', conf: {} },
    ],
  },
  {
    // multinet delegating in-process to ptp (the default network) and to macvlan (a NAD the
    // pod's annotation selects): a kill anywhere, then the runtime's one DEL of multinet.
    name: 'multinet: ptp and a macvlan NAD',
    args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=crashpod',
    setup: async (netns) => {
      mkdirSync(join(netns.dir, 'nads'));
      const config = { cniVersion: '1.0.0', type: 'macvlan', master: 'uplink0', mode: 'bridge', ipam: hostLocal(netns, '10.68.0.0/24') };
      writeFileSync(
        join(netns.dir, 'nads', 'side.json'),
        JSON.stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'side', namespace: 'default' }, spec: { config: JSON.stringify(config) } }),
      );
    },
    steps: (netns) => [
      {
        type: 'multinet',
        conf: {
          delegates: [{ cniVersion: '1.0.0', name: 'crash-pods', plugins: [{ type: 'ptp', ipMasq: true, ipam: hostLocal(netns, '10.69.0.0/24') }] }],
          nadDir: join(netns.dir, 'nads'),
          cniDir: join(netns.dir, 'multinet'),
          confDir: join(netns.dir, 'net.d'),
          binDir: BUNDLE,
          runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'side@net1' } },
        },
      },
    ],
  },
];

describe.skipIf(process.getuid?.() !== 0 || !existsSync(join(BUNDLE, 'bridge')))('crash safety: SIGKILL at a random moment of ADD, then DEL, leaves nothing', () => {
  it.each(SCENARIOS)('$name', async (scenario) => {
    const netns = await useTestNetns({ defaultRoute: true });
    const { killed, addMs } = await runCrashTrials(OPTIONS, netns, scenario);
    console.log(`crash ${scenario.name}: ${OPTIONS.trials} trials, ${killed} killed mid-ADD, seed ${OPTIONS.seed}, ADD takes ${Math.round(addMs)} ms`);
  });
});
