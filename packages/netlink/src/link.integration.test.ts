// SPDX-License-Identifier: Apache-2.0
import { readLink, readLinks, useTestNetns, ipJson, type TestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LinkNotFoundError, NetlinkError, openNetlink, type Netlink } from './index.ts';

// Every operation runs in the test's own namespaces and is read back through iproute2.

async function handles(options: { container?: boolean } = {}): Promise<{ netns: TestNetns; host: Netlink; container: Netlink }> {
  const netns = await useTestNetns({ container: options.container ?? true });
  const host = await openNetlink({ netns: netns.host.path });
  onTestFinished(() => host.close());
  const container = options.container === false ? host : await openNetlink({ netns: netns.container.path });
  if (container !== host) onTestFinished(() => container.close());
  return { netns, host, container };
}

describe.skipIf(process.getuid?.() !== 0)('link', () => {
  it('creates a veth pair with the peer in another namespace, and reads the peer index', async () => {
    const { netns, host, container } = await handles();
    await host.link.add({ kind: 'veth', name: 'veth-h', mtu: 1400, peer: { name: 'eth0', netns: netns.container.path, mac: '0a:58:0a:01:02:03' } });
    const hostEnd = await readLink(netns.host, 'veth-h');
    const peer = await readLink(netns.container, 'eth0');
    expect(hostEnd?.linkinfo?.info_kind).toBe('veth');
    expect(hostEnd?.mtu).toBe(1400);
    expect(peer?.address).toBe('0a:58:0a:01:02:03');
    expect(await host.link.vethPeerIndex({ name: 'veth-h' })).toBe(peer?.ifindex);
    expect(await container.link.vethPeerIndex({ name: 'eth0' })).toBe(hostEnd?.ifindex);
    const read = await container.link.get({ name: 'eth0' });
    expect(read).toMatchObject({ kind: 'veth', name: 'eth0', index: peer?.ifindex, mac: '0a:58:0a:01:02:03' });
  });

  it('lists links and gets them by name, index and alias', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'veth', name: 'a0', alias: 'first', peer: { name: 'a1' } });
    const names = (await host.link.list()).map((link) => link.name).sort();
    expect(names).toEqual((await readLinks(netns.host)).map((link) => link.ifname).sort());
    const byName = await host.link.get({ name: 'a0' });
    expect((await host.link.get({ index: byName.index })).name).toBe('a0');
    expect((await host.link.get({ alias: 'first' })).index).toBe(byName.index);
    expect(byName.alias).toBe('first');
    expect(await host.link.find({ name: 'missing0' })).toBeUndefined();
  });

  it('sets up, down, mtu, mac, name, alias, txqueuelen, promisc and allmulti', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
    await host.link.setUp({ name: 'v0' });
    expect((await readLink(netns.host, 'v0'))?.flags).toContain('UP');
    await host.link.setDown({ name: 'v0' });
    expect((await readLink(netns.host, 'v0'))?.flags).not.toContain('UP');
    await host.link.setMtu({ name: 'v0' }, 1280);
    await host.link.setMac({ name: 'v0' }, '02:00:00:00:00:42');
    await host.link.setAlias({ name: 'v0' }, 'an alias');
    await host.link.setTxQueueLen({ name: 'v0' }, 321);
    await host.link.setPromisc({ name: 'v0' }, true);
    await host.link.setAllmulti({ name: 'v0' }, true);
    await host.link.setName({ name: 'v0' }, 'renamed0');
    const link = await readLink(netns.host, 'renamed0');
    expect(link).toMatchObject({ mtu: 1280, address: '02:00:00:00:00:42', ifalias: 'an alias', txqlen: 321 });
    expect(link?.flags).toEqual(expect.arrayContaining(['PROMISC', 'ALLMULTI']));
    const read = await host.link.get({ name: 'renamed0' });
    expect(read).toMatchObject({ promisc: true, allmulti: true, mtu: 1280, txQueueLen: 321 });
    await host.link.setPromisc({ name: 'renamed0' }, false);
    expect((await readLink(netns.host, 'renamed0'))?.flags).not.toContain('PROMISC');
  });

  it('creates a bridge, enslaves and releases a port, and sets hairpin, isolated and learning', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'bridge', name: 'br0', up: true, mtu: 1450 });
    await host.link.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' } });
    await host.link.setMaster({ name: 'p0' }, { name: 'br0' });
    expect((await readLink(netns.host, 'p0'))?.master).toBe('br0');
    await host.link.setBridgePort({ name: 'p0' }, { hairpin: true, isolated: true, learning: false });
    const port = await readLink(netns.host, 'p0');
    expect(port?.linkinfo?.info_slave_data).toMatchObject({ hairpin: true, isolated: true, learning: false });
    expect((await host.link.get({ name: 'p0' })).bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });
    const bridge = await host.link.get({ name: 'br0' });
    expect(bridge).toMatchObject({ kind: 'bridge', up: true, vlanFiltering: false });
    await host.link.setNoMaster({ name: 'p0' });
    expect((await readLink(netns.host, 'p0'))?.master).toBeUndefined();
  });

  it('creates a bridge with stp, forward delay, ageing time and multicast snooping', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'bridge', name: 'br1', stp: true, forwardDelay: 800, ageingTime: 12_000, multicastSnooping: false });
    const data = (await readLink(netns.host, 'br1'))?.linkinfo?.info_data;
    expect(data).toMatchObject({ stp_state: 1, forward_delay: 800, ageing_time: 12_000, mcast_snooping: 0 });
    expect(await host.link.get({ name: 'br1' })).toMatchObject({ kind: 'bridge', stp: true });
  });

  it('creates macvlan and macvtap links in every mode', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'veth', name: 'parent0', peer: { name: 'parent1' } });
    const parent = await host.link.get({ name: 'parent0' });
    const modes = ['bridge', 'private', 'vepa', 'source'] as const;
    for (const [i, mode] of modes.entries()) {
      await host.link.add({ kind: i % 2 === 0 ? 'macvlan' : 'macvtap', name: `mv${i}`, parentIndex: parent.index, mode });
      const link = await readLink(netns.host, `mv${i}`);
      expect(link?.linkinfo?.info_kind).toBe(i % 2 === 0 ? 'macvlan' : 'macvtap');
      expect(link?.linkinfo?.info_data?.mode).toBe(mode);
      expect(link?.link).toBe('parent0');
      expect(await host.link.get({ name: `mv${i}` })).toMatchObject({ kind: i % 2 === 0 ? 'macvlan' : 'macvtap', mode, parentIndex: parent.index });
    }
    // passthru takes the parent for itself: alone on a second parent.
    await host.link.add({ kind: 'veth', name: 'parent2', peer: { name: 'parent3' } });
    await host.link.add({ kind: 'macvlan', name: 'mvpt', parentIndex: (await host.link.get({ name: 'parent2' })).index, mode: 'passthru' });
    expect((await readLink(netns.host, 'mvpt'))?.linkinfo?.info_data?.mode).toBe('passthru');
  });

  it('sets a macvlan broadcast queue length and creates it directly in another namespace', async () => {
    const { netns, host, container } = await handles();
    await host.link.add({ kind: 'veth', name: 'parent0', peer: { name: 'parent1' } });
    const parent = await host.link.get({ name: 'parent0' });
    await host.link.add({ kind: 'macvlan', name: 'mv0', parentIndex: parent.index, mode: 'bridge', bcQueueLen: 2000, netns: netns.container.path });
    const link = await readLink(netns.container, 'mv0');
    expect(link?.linkinfo?.info_data).toMatchObject({ mode: 'bridge', bcqueuelen: 2000 });
    expect(await container.link.get({ name: 'mv0' })).toMatchObject({ kind: 'macvlan', bcQueueLen: 2000 });
  });

  it('creates a vxlan', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'vxlan', name: 'vx0', vni: 42, group: '239.1.1.1', port: 4789, learning: false, parentIndex: 1 });
    const data = (await readLink(netns.host, 'vx0'))?.linkinfo?.info_data;
    expect(data).toMatchObject({ id: 42, group: '239.1.1.1', port: 4789, learning: false });
    expect(await host.link.get({ name: 'vx0' })).toMatchObject({ kind: 'vxlan', vni: 42, group: '239.1.1.1', port: 4789, learning: false });
  });

  it('creates an ifb', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'ifb', name: 'ifb0', up: true });
    expect((await readLink(netns.host, 'ifb0'))?.linkinfo?.info_kind).toBe('ifb');
    expect(await host.link.get({ name: 'ifb0' })).toMatchObject({ kind: 'ifb', up: true });
  });

  it('creates tun and tap devices with owner, group and multi_queue, inside the handle namespace', async () => {
    const { netns, container } = await handles();
    await container.link.add({ kind: 'tap', name: 'tap0', multiQueue: true, owner: 4242, group: 4243, mtu: 1300 });
    await container.link.add({ kind: 'tun', name: 'tun0' });
    const tap = await readLink(netns.container, 'tap0');
    expect(tap?.linkinfo?.info_kind).toBe('tun');
    expect(tap?.linkinfo?.info_data).toMatchObject({ type: 'tap', multi_queue: true });
    expect(String(tap?.linkinfo?.info_data?.user)).toBe('4242');
    expect(String(tap?.linkinfo?.info_data?.group)).toBe('4243');
    expect(tap?.mtu).toBe(1300);
    expect((await readLink(netns.container, 'tun0'))?.linkinfo?.info_data).toMatchObject({ type: 'tun' });
    expect(await container.link.get({ name: 'tap0' })).toMatchObject({ kind: 'tap', multiQueue: true, owner: 4242, group: 4243 });
    expect(await readLink(netns.host, 'tap0')).toBeUndefined();
  });

  it('moves a link into another namespace by path and by descriptor', async () => {
    const { netns, host } = await handles();
    await host.link.add({ kind: 'veth', name: 'm0', peer: { name: 'm1' } });
    await host.link.setNetns({ name: 'm0' }, netns.container.path);
    expect(await readLink(netns.container, 'm0')).toBeDefined();
    expect(await readLink(netns.host, 'm0')).toBeUndefined();
    const { openSync, closeSync } = await import('node:fs');
    const fd = openSync(netns.container.path, 'r');
    try {
      await host.link.setNetns({ name: 'm1' }, fd);
    } finally {
      closeSync(fd);
    }
    expect(await readLink(netns.container, 'm1')).toBeDefined();
  });

  it('deletes links by name and index, and reports a missing one as LinkNotFoundError', async () => {
    const { netns, host } = await handles({ container: false });
    await host.link.add({ kind: 'veth', name: 'd0', peer: { name: 'd1' } });
    await host.link.del({ name: 'd0' });
    expect(await readLink(netns.host, 'd1')).toBeUndefined();
    await host.link.add({ kind: 'bridge', name: 'd2' });
    await host.link.del({ index: (await host.link.get({ name: 'd2' })).index });
    expect(await readLink(netns.host, 'd2')).toBeUndefined();
    const error = await host.link.del({ name: 'd0' }).catch((caught: unknown) => caught);
    expect(LinkNotFoundError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ tag: 'NotFound', errno: 19, operation: 'link.del', target: 'd0' });
    expect(String(error)).toContain('NotFound: link.del (d0): No such device');
  });

  it('refuses bad arguments with typed errors', async () => {
    const { host } = await handles({ container: false });
    const reasons = await Promise.all([
      host.link.get({ name: 'nope0' }).catch((error: unknown) => error),
      host.link.add({ kind: 'bridge', name: 'a-name-of-16-byt' }).catch((error: unknown) => error),
      host.link.add({ kind: 'veth', name: 'ok0', peer: { name: 'ok1', netns: '/var/run/netns/does-not-exist' } }).catch((error: unknown) => error),
      host.link.setMac({ name: 'lo' }, 'zz:00').catch((error: unknown) => error),
    ]);
    expect(LinkNotFoundError.isInstance(reasons[0])).toBe(true);
    expect(reasons[1]).toMatchObject({ tag: 'InvalidArgument', operation: 'link.add' });
    expect(reasons[2]).toMatchObject({ tag: 'NotFound', target: '/var/run/netns/does-not-exist' });
    expect(reasons[3]).toMatchObject({ tag: 'InvalidArgument' });
    for (const reason of reasons) expect(NetlinkError.isInstance(reason)).toBe(true);
    expect(await ipJson<unknown[]>(null, ['link', 'show', 'ok0']).catch(() => [])).toEqual([]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('openNetlink', () => {
  it('refuses a path that does not exist or is not a namespace', async () => {
    const missing = await openNetlink({ netns: '/var/run/netns/does-not-exist' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ tag: 'NotFound', operation: 'netlink.open', target: '/var/run/netns/does-not-exist' });
    const notNetns = await openNetlink({ netns: '/proc/self/stat' }).catch((error: unknown) => error);
    expect(notNetns).toMatchObject({ tag: 'InvalidArgument', operation: 'netlink.open' });
  });

  it('keeps several handles open at once, each bound to its namespace', async () => {
    const { netns, host, container } = await handles();
    await host.link.add({ kind: 'bridge', name: 'only-host' });
    await container.link.add({ kind: 'bridge', name: 'only-cont' });
    expect((await host.link.list()).map((link) => link.name)).not.toContain('only-cont');
    expect((await container.link.list()).map((link) => link.name)).not.toContain('only-host');
    expect(await readLink(netns.container, 'only-cont')).toBeDefined();
    host.close();
    expect(host.closed).toBe(true);
    host.close();
  });
});

describe.skipIf(process.getuid?.() !== 0)('await using', () => {
  it('closes the handle at the end of the block', async () => {
    const netns = await useTestNetns({ container: false });
    let escaped: Netlink | undefined;
    {
      await using nl = await openNetlink({ netns: netns.host.path });
      await nl.link.add({ kind: 'bridge', name: 'br-using' });
      escaped = nl;
      expect(nl.closed).toBe(false);
    }
    expect(escaped.closed).toBe(true);
    expect((await readLink(netns.host, 'br-using'))?.linkinfo?.info_kind).toBe('bridge');
  });
});
