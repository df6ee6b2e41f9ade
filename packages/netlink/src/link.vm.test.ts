// SPDX-License-Identifier: Apache-2.0
import { readLink, useTestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openNetlink } from './index.ts';

// The link kinds the host kernel lacks (dummy, ipvlan, vlan, vrf, bond) and bridge VLAN
// filtering, inside the VM tier's cloud kernel; read back through `ip -j -d` and `bridge -j`.

async function setup() {
  const netns = await useTestNetns({ container: true });
  const nl = await openNetlink({ netns: netns.host.path });
  onTestFinished(() => nl.close());
  await nl.link.add({ kind: 'dummy', name: 'dummy0', up: true });
  const parent = await nl.link.get({ name: 'dummy0' });
  return { netns, nl, parentIndex: parent.index };
}

describe('link kinds of the VM kernel', () => {
  it('creates a dummy', async () => {
    const { netns, nl } = await setup();
    expect((await readLink(netns.host, 'dummy0'))?.linkinfo?.info_kind).toBe('dummy');
    expect(await nl.link.get({ name: 'dummy0' })).toMatchObject({ kind: 'dummy', up: true });
  });

  it('creates ipvlan links in l2, l3 and l3s with bridge, private and vepa flags, and an ipvtap', async () => {
    const { netns, nl, parentIndex } = await setup();
    const cases = [
      ['l2', 'bridge'],
      ['l3', 'private'],
      ['l3s', 'vepa'],
    ] as const;
    for (const [i, [mode, flag]] of cases.entries()) {
      await nl.link.add({ kind: 'ipvlan', name: `ipvl${i}`, parentIndex, mode, flag });
      const data = (await readLink(netns.host, `ipvl${i}`))?.linkinfo?.info_data;
      expect(data?.mode).toBe(mode);
      if (flag !== 'bridge') expect(JSON.stringify(data)).toContain(flag);
      expect(await nl.link.get({ name: `ipvl${i}` })).toMatchObject({ kind: 'ipvlan', mode, flag, parentIndex });
    }
    await nl.link.add({ kind: 'ipvtap', name: 'ipvtap0', parentIndex, mode: 'l2' });
    expect((await readLink(netns.host, 'ipvtap0'))?.linkinfo?.info_kind).toBe('ipvtap');
    expect(await nl.link.get({ name: 'ipvtap0' })).toMatchObject({ kind: 'ipvtap', mode: 'l2' });
    await nl.link.add({ kind: 'ipvlan', name: 'ipvlc', parentIndex, mode: 'l2', netns: netns.container.path });
    expect((await readLink(netns.container, 'ipvlc'))?.linkinfo?.info_kind).toBe('ipvlan');
  });

  it('creates 802.1Q and 802.1ad VLANs', async () => {
    const { netns, nl, parentIndex } = await setup();
    await nl.link.add({ kind: 'vlan', name: 'vlan10', parentIndex, vlanId: 10 });
    await nl.link.add({ kind: 'vlan', name: 'vlan20', parentIndex, vlanId: 20, protocol: '802.1ad' });
    expect((await readLink(netns.host, 'vlan10'))?.linkinfo?.info_data).toMatchObject({ protocol: '802.1Q', id: 10 });
    expect((await readLink(netns.host, 'vlan20'))?.linkinfo?.info_data).toMatchObject({ protocol: '802.1ad', id: 20 });
    expect(await nl.link.get({ name: 'vlan20' })).toMatchObject({ kind: 'vlan', vlanId: 20, protocol: '802.1ad', parentIndex });
  });

  it('creates a vrf and enslaves a link to it', async () => {
    const { netns, nl } = await setup();
    await nl.link.add({ kind: 'vrf', name: 'vrf-blue', table: 1234, up: true });
    await nl.link.setMaster({ name: 'dummy0' }, { name: 'vrf-blue' });
    expect((await readLink(netns.host, 'vrf-blue'))?.linkinfo?.info_data).toMatchObject({ table: 1234 });
    expect((await readLink(netns.host, 'dummy0'))?.master).toBe('vrf-blue');
    expect(await nl.link.get({ name: 'vrf-blue' })).toMatchObject({ kind: 'vrf', table: 1234 });
  });

  it('creates a bond with mode and miimon, enslaves and releases a link', async () => {
    const { netns, nl } = await setup();
    await nl.link.add({ kind: 'bond', name: 'bond0', mode: 'active-backup', miimon: 100 });
    await nl.link.add({ kind: 'dummy', name: 'slave0' });
    await nl.link.setMaster({ name: 'slave0' }, { name: 'bond0' });
    expect((await readLink(netns.host, 'bond0'))?.linkinfo?.info_data).toMatchObject({ mode: 'active-backup', miimon: 100 });
    expect((await readLink(netns.host, 'slave0'))?.master).toBe('bond0');
    expect(await nl.link.get({ name: 'bond0' })).toMatchObject({ kind: 'bond', mode: 'active-backup', miimon: 100 });
    await nl.link.setNoMaster({ name: 'slave0' });
    expect((await readLink(netns.host, 'slave0'))?.master).toBeUndefined();
  });

  it('creates a VLAN-filtering bridge and sets port VLANs with pvid and untagged', async () => {
    const { netns, nl } = await setup();
    await nl.link.add({ kind: 'bridge', name: 'br0', vlanFiltering: true, vlanDefaultPvid: 1 });
    await nl.link.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' }, masterIndex: (await nl.link.get({ name: 'br0' })).index });
    await nl.link.bridgeVlanAdd({ name: 'p0' }, { vid: 10, pvid: true, untagged: true });
    await nl.link.bridgeVlanAdd({ name: 'p0' }, { vid: 20 });
    await nl.link.bridgeVlanAdd({ name: 'br0' }, { vid: 10, self: true });
    expect((await readLink(netns.host, 'br0'))?.linkinfo?.info_data).toMatchObject({ vlan_filtering: 1 });
    expect(await nl.link.get({ name: 'br0' })).toMatchObject({ kind: 'bridge', vlanFiltering: true });
    // `bridge` is the oracle where the image has it (the VM tier ships ip, tc and nft only so far).
    const bridgeTool = await netns.execHost(['bridge', '-j', 'vlan', 'show', 'dev', 'p0']).catch(() => undefined);
    if (bridgeTool) {
      expect(bridgeTool.stdout).toContain('"vlan":10');
      expect(bridgeTool.stdout).toContain('PVID');
      expect(bridgeTool.stdout).toContain('"vlan":20');
    }
    const p0 = (await nl.link.get({ name: 'p0' })).index;
    expect((await nl.link.bridgeVlanList()).get(p0)).toEqual(
      expect.arrayContaining([{ vid: 10, pvid: true, untagged: true }, { vid: 20, pvid: false, untagged: false }]),
    );
    await nl.link.bridgeVlanDel({ name: 'p0' }, { vid: 20 });
    expect((await nl.link.bridgeVlanList()).get(p0)?.map((vlan) => vlan.vid)).not.toContain(20);
    if (bridgeTool) expect((await netns.execHost(['bridge', '-j', 'vlan', 'show', 'dev', 'p0'])).stdout).not.toContain('"vlan":20');
  });
});
