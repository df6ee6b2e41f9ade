// SPDX-License-Identifier: Apache-2.0
// Crash safety of the plugins whose link kinds the host kernel lacks (ipvlan, vlan, dummy, bond,
// vrf), in the VM tier's cloud kernel: see harness.ts. Fewer trials than on the host
// (CNI_CRASH_TRIALS, default 2): every process start costs about a second under TCG.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, useTestNetns } from '@cni/testkit';
import { describe, it } from 'vitest';
import { hostLocal, runCrashTrials, type Scenario } from './harness.ts';

const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../apps/cni-bundle/dist/bin', import.meta.url));
const OPTIONS = { bundle: BUNDLE, seed: Number(process.env['CNI_CRASH_SEED'] ?? 22), trials: Number(process.env['CNI_CRASH_TRIALS'] ?? 2), probes: 2 };

const SCENARIOS: Scenario[] = [
  { name: 'ipvlan', steps: (netns) => [{ type: 'ipvlan', conf: { master: 'uplink0', mode: 'l2', ipam: hostLocal(netns, '10.71.0.0/24') } }] },
  { name: 'vlan', steps: (netns) => [{ type: 'vlan', conf: { master: 'uplink0', vlanId: 71, ipam: hostLocal(netns, '10.72.0.0/24') } }] },
  { name: 'dummy', steps: (netns) => [{ type: 'dummy', conf: { ipam: hostLocal(netns, '10.73.0.0/24') } }] },
  {
    // Host links moved into the container and enslaved: a kill anywhere, and DEL gives them back.
    name: 'bond',
    setup: async (netns) => {
      for (const link of ['crl0', 'crl1']) await run(['ip', '-n', netns.host.name, 'link', 'add', link, 'type', 'dummy']);
    },
    steps: () => [{ type: 'bond', conf: { mode: 'active-backup', miimon: '100', links: [{ name: 'crl0' }, { name: 'crl1' }], ipam: { type: 'static', addresses: [{ address: '10.74.0.2/24' }] } } }],
  },
  {
    name: 'ptp, vrf',
    steps: (netns) => [
      { type: 'ptp', conf: { ipam: hostLocal(netns, '10.75.0.0/24') } },
      { type: 'vrf', conf: { vrfname: 'crvrf', table: 1075 } },
    ],
  },
];

describe.skipIf(process.getuid?.() !== 0 || !existsSync(join(BUNDLE, 'bridge')))('crash safety in the VM kernel: SIGKILL at a random moment of ADD, then DEL, leaves nothing', () => {
  // One it() per scenario by name: the VM tier's light runner does not expand `$name`.
  for (const scenario of SCENARIOS) it(scenario.name, async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const { killed, addMs } = await runCrashTrials(OPTIONS, netns, scenario);
    console.log(`crash ${scenario.name}: ${OPTIONS.trials} trials, ${killed} killed mid-ADD, seed ${OPTIONS.seed}, ADD takes ${Math.round(addMs)} ms`);
  }, 180_000);
});
