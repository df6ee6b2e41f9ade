// SPDX-License-Identifier: Apache-2.0
// VLANs need bridge VLAN filtering, which the host kernel lacks: these run in the VM tier's cloud
// kernel. Its image has no `bridge` program, so port VLANs are read through @cni/netlink's
// RTM_GETLINK dump (AF_BRIDGE, RTEXT_FILTER_BRVLAN), and VLAN separation is proven with traffic.
import { openNetlink } from '@cni/netlink';
import { execPlugin, readAddressList, readLink, readLinks, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { netConf, bridgeRunner } from './__tests__/helpers.ts';

const runBridge = bridgeRunner(execPlugin);

/** A run that must succeed; a failure names the plugin's error (the VM is too slow to rerun for it). */
function expectNoError(run: { error?: unknown }): void {
  expect(run.error, `plugin failed: ${JSON.stringify(run.error)}`).toBeUndefined();
}

async function portVlans(netns: TestNetns, bridge = 'cni0') {
  const nl = await openNetlink({ netns: netns.host.path });
  try {
    const vlans = await nl.link.bridgeVlanList();
    const ports = (await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth') && link.master === bridge);
    return ports.map((port) => (vlans.get(port.ifindex) ?? []).sort((a, b) => a.vid - b.vid));
  } finally {
    nl.close();
  }
}

describe.skipIf(process.getuid?.() !== 0)('bridge VLANs in the VM kernel', () => {
  it('vlan with isGateway: VLAN filtering, a <bridge>.<vlan> gateway, and pods of another VLAN unreachable', async () => {
    const netns = await useTestNetns();
    const second = await useTestNetns();
    const third = await useTestNetns();
    const conf = netConf(netns, '1.1.0', { isGateway: true, vlan: 100 });
    const added = await runBridge(netns, { command: 'ADD', containerId: 'pod1', conf });
    expectNoError(added);
    expect((added.result as { interfaces: { name: string }[] }).interfaces.map((iface) => iface.name)).toEqual([
      'cni0',
      expect.stringMatching(/^veth/),
      'eth0',
      'cni0.100',
    ]);
    expect((await readLink(netns.host, 'cni0'))?.linkinfo?.info_data).toMatchObject({ vlan_filtering: 1 });
    expect(await readAddressList(netns.host, 'cni0.100', 4)).toEqual(['10.88.0.1/24']);
    expect(await portVlans(netns)).toContainEqual([{ vid: 100, pvid: true, untagged: true }]);

    expectNoError(await runBridge(netns, { command: 'ADD', containerId: 'pod2', container: second.container, conf }));
    // Another network in the same subnet on VLAN 200, its addresses from .50 on: L2 apart only by the VLAN.
    const otherVlan = {
      ...netConf(netns, '1.1.0', { vlan: 200 }),
      name: 'brnet200',
      ipam: { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet: '10.88.0.0/24', rangeStart: '10.88.0.50' }]] },
    };
    expectNoError(await runBridge(netns, { command: 'ADD', containerId: 'pod3', container: third.container, conf: otherVlan }));
    const podC = (await readAddressList(third.container, 'eth0', 4))[0]!.split('/')[0]!;

    await netns.execContainer(['ping', '-c1', '-W3', '10.88.0.1']);
    await netns.execContainer(['ping', '-c1', '-W3', '10.88.0.3']);
    expect((await netns.execContainer(['ping', '-c1', '-W1', podC], { allowFailure: true })).exitCode).not.toBe(0);

    // A port whose MAC is lower than every other: an unpinned bridge would take it and CHECK of
    // pod1 would find the bridge's MAC changed (upstream pins only the VLAN link in this mode).
    await netns.execHost(['ip', 'link', 'add', 'lowmac0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'lowmac1']);
    await netns.execHost(['ip', 'link', 'set', 'lowmac0', 'master', 'cni0', 'up']);
    expectNoError(await runBridge(netns, { command: 'CHECK', containerId: 'pod1', conf: { ...conf, prevResult: added.result } }));
    await netns.execHost(['ip', 'link', 'del', 'lowmac0']);
    expectNoError(await runBridge(netns, { command: 'DEL', containerId: 'pod1', conf }));
  });

  it('vlanTrunk and preserveDefaultVlan: the port VLANs as upstream sets them', async () => {
    const cases = [
      { extra: { vlanTrunk: [{ id: 101 }, { minID: 200, maxID: 202 }] }, vids: [[1, true], [101, false], [200, false], [201, false], [202, false]] },
      { extra: { vlan: 100 }, vids: [[100, true]] },
      { extra: { vlan: 100, preserveDefaultVlan: true }, vids: [[1, false], [100, true]] },
      { extra: { vlan: 100, vlanTrunk: [{ id: 300 }] }, vids: [[100, true], [300, false]] },
    ] as const;
    // One bridge per case (VLAN filtering is set when a bridge is made), one container interface each.
    const netns = await useTestNetns();
    for (const [index, { extra, vids }] of cases.entries()) {
      const bridge = `trunk${index}`;
      const conf = { cniVersion: '1.1.0', name: `trunk${index}`, type: 'bridge', bridge, ...extra };
      const added = await runBridge(netns, { command: 'ADD', ifName: `eth${index}`, conf });
      expectNoError(added);
      const [vlans] = await portVlans(netns, bridge);
      expect(vlans?.map(({ vid, pvid }) => [vid, pvid])).toEqual(vids);
      for (const info of vlans ?? []) expect(info.untagged).toBe(info.pvid || (info.vid === 1 && 'preserveDefaultVlan' in extra));
    }
  });
});
