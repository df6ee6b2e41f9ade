// SPDX-License-Identifier: Apache-2.0
import { ipJson, readAddresses, readNeighbours, readRoutes, readRules, useTestNetns, type IpRoute } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetlinkError, openNetlink, type Netlink } from './index.ts';

// Addresses, routes, rules and neighbours, each read back through `ip -j`.

async function withLink(): Promise<{ ns: { name: string; path: string }; nl: Netlink; index: number }> {
  const netns = await useTestNetns({ container: false });
  const nl = await openNetlink({ netns: netns.host.path });
  onTestFinished(() => nl.close());
  await nl.link.add({ kind: 'veth', name: 'v0', up: true, peer: { name: 'v1' } });
  await nl.link.setUp({ name: 'v1' });
  return { ns: netns.host, nl, index: (await nl.link.get({ name: 'v0' })).index };
}

describe.skipIf(process.getuid?.() !== 0)('address', () => {
  it('adds, lists, replaces and deletes IPv4 and IPv6 addresses with flags, scope and broadcast', async () => {
    const { ns, nl, index } = await withLink();
    await nl.address.add({ name: 'v0' }, '10.1.2.3/24');
    await nl.address.add({ index }, '10.1.3.3/24', { broadcast: '10.1.3.200', scope: 'link', noPrefixRoute: true });
    await nl.address.add({ name: 'v0' }, 'fd00::3/64', { nodad: true });
    const [link] = await readAddresses(ns, { dev: 'v0' });
    const info = link?.addr_info ?? [];
    expect(info).toContainEqual(expect.objectContaining({ family: 'inet', local: '10.1.2.3', prefixlen: 24, broadcast: '10.1.2.255', scope: 'global' }));
    expect(info).toContainEqual(expect.objectContaining({ family: 'inet', local: '10.1.3.3', broadcast: '10.1.3.200', scope: 'link', noprefixroute: true }));
    expect(info).toContainEqual(expect.objectContaining({ family: 'inet6', local: 'fd00::3', prefixlen: 64, nodad: true }));
    const routes = await readRoutes(ns, { family: 4 });
    expect(routes.map((route) => route.dst)).toContain('10.1.2.0/24');
    expect(routes.map((route) => route.dst)).not.toContain('10.1.3.0/24');

    const listed = await nl.address.list({ link: { name: 'v0' } });
    expect(listed.map((address) => address.cidr)).toEqual(expect.arrayContaining(['10.1.2.3/24', '10.1.3.3/24', 'fd00::3/64']));
    expect(listed.find((address) => address.cidr === '10.1.3.3/24')).toMatchObject({ scope: 'link', broadcast: '10.1.3.200', family: 4 });
    expect((await nl.address.list({ family: 6 })).every((address) => address.family === 6)).toBe(true);

    const duplicate = await nl.address.add({ name: 'v0' }, '10.1.2.3/24').catch((error: unknown) => error);
    expect(duplicate).toMatchObject({ tag: 'AlreadyExists', operation: 'address.add' });
    await nl.address.replace({ name: 'v0' }, '10.1.2.3/24', { broadcast: false });
    await nl.address.del({ name: 'v0' }, '10.1.2.3/24');
    await nl.address.del({ name: 'v0' }, 'fd00::3/64');
    const after = (await readAddresses(ns, { dev: 'v0' }))[0]?.addr_info.map((address) => address.local);
    expect(after).not.toContain('10.1.2.3');
    expect(after).not.toContain('fd00::3');
    const missing = await nl.address.del({ name: 'v0' }, '10.1.2.3/24').catch((error: unknown) => error);
    expect(missing).toMatchObject({ tag: 'NotFound' });
  });

  it('refuses an invalid CIDR and an unknown link with typed errors', async () => {
    const { nl } = await withLink();
    for (const bad of ['10.1.2.300/24', '10.1.2.3/33', 'fd00::1/129', 'nonsense', '']) {
      const error = await nl.address.add({ name: 'v0' }, bad).catch((caught: unknown) => caught);
      expect(NetlinkError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ tag: 'InvalidArgument', operation: 'address.add' });
    }
    const unknown = await nl.address.add({ name: 'nope0' }, '10.0.0.1/24').catch((caught: unknown) => caught);
    expect(unknown).toMatchObject({ tag: 'NotFound', name: 'LinkNotFoundError' });
  });
});

describe.skipIf(process.getuid?.() !== 0)('route', () => {
  it('adds routes with every attribute and reads them back', async () => {
    const { ns, nl, index } = await withLink();
    await nl.address.add({ name: 'v0' }, '10.1.2.3/24');
    await nl.address.add({ name: 'v0' }, 'fd00::3/64', { nodad: true });
    await nl.route.add({ dst: '10.9.0.0/16', gateway: '10.1.2.1', metric: 100, mtu: 1400, advmss: 1360, src: '10.1.2.3' });
    await nl.route.add({ dst: '10.8.0.5/32', link: { name: 'v0' } });
    await nl.route.add({ dst: 'default', gateway: '10.1.2.1', table: 100 });
    await nl.route.add({ dst: '10.7.0.0/16', type: 'blackhole' });
    await nl.route.add({ dst: '10.6.0.0/16', type: 'unreachable' });
    await nl.route.add({ dst: '10.5.0.1/32', type: 'local', link: { index }, table: 100 });
    await nl.route.add({ dst: 'fd01::/64', gateway: 'fd00::1', link: { name: 'v0' } });
    await nl.route.add({ dst: '10.4.0.0/16', gateway: '192.0.2.1', link: { name: 'v0' }, onlink: true, protocol: 4 });

    const main = await readRoutes(ns, { family: 4 });
    const find = (routes: IpRoute[], dst: string) => routes.find((route) => route.dst === dst);
    expect(find(main, '10.9.0.0/16')).toMatchObject({ gateway: '10.1.2.1', dev: 'v0', metric: 100, prefsrc: '10.1.2.3', metrics: [{ mtu: 1400, advmss: 1360 }] });
    expect(find(main, '10.8.0.5')).toMatchObject({ dev: 'v0', scope: 'link' });
    expect(find(main, '10.7.0.0/16')).toMatchObject({ type: 'blackhole' });
    expect(find(main, '10.6.0.0/16')).toMatchObject({ type: 'unreachable' });
    expect(find(main, '10.4.0.0/16')).toMatchObject({ gateway: '192.0.2.1', flags: ['onlink'], protocol: 'static' });
    const table100 = await ipJson<IpRoute[]>(ns, ['route', 'show', 'table', '100']);
    expect(find(table100, 'default')).toMatchObject({ gateway: '10.1.2.1' });
    expect(await ipJson<IpRoute[]>(ns, ['route', 'show', 'table', '100', 'type', 'local'])).toContainEqual(expect.objectContaining({ dst: '10.5.0.1', type: 'local', dev: 'v0', scope: 'host' }));
    expect(find(await readRoutes(ns, { family: 6 }), 'fd01::/64')).toMatchObject({ gateway: 'fd00::1', dev: 'v0' });

    const listed = await nl.route.list({ family: 4 });
    expect(listed.find((route) => route.dst === '10.9.0.0/16')).toMatchObject({ gateway: '10.1.2.1', linkIndex: index, metric: 100, mtu: 1400, advmss: 1360, src: '10.1.2.3', table: 254 });
    expect(listed.find((route) => route.dst === '10.7.0.0/16')?.type).toBe('blackhole');
    expect((await nl.route.list({ table: 100 })).map((route) => route.dst)).toContain('default');
    expect((await nl.route.list({ family: 6, link: { name: 'v0' } })).map((route) => route.dst)).toContain('fd01::/64');
  });

  it('replaces and deletes routes, and types its errors', async () => {
    const { ns, nl } = await withLink();
    await nl.address.add({ name: 'v0' }, '10.1.2.3/24');
    await nl.route.add({ dst: '10.9.0.0/16', gateway: '10.1.2.1' });
    const duplicate = await nl.route.add({ dst: '10.9.0.0/16', gateway: '10.1.2.1' }).catch((error: unknown) => error);
    expect(duplicate).toMatchObject({ tag: 'AlreadyExists', operation: 'route.add', target: '10.9.0.0/16' });
    await nl.route.replace({ dst: '10.9.0.0/16', gateway: '10.1.2.2' });
    expect((await readRoutes(ns, { family: 4 })).find((route) => route.dst === '10.9.0.0/16')?.gateway).toBe('10.1.2.2');
    await nl.route.del({ dst: '10.9.0.0/16' });
    expect((await readRoutes(ns, { family: 4 })).map((route) => route.dst)).not.toContain('10.9.0.0/16');
    expect(await nl.route.del({ dst: '10.9.0.0/16' }).catch((error: unknown) => error)).toMatchObject({ tag: 'NotFound' });
    expect(await nl.route.add({ dst: '10.9.0.0/40' }).catch((error: unknown) => error)).toMatchObject({ tag: 'InvalidArgument' });
    expect(await nl.route.add({ dst: '10.9.0.0/16', gateway: 'fd00::1' }).catch((error: unknown) => error)).toMatchObject({ tag: 'InvalidArgument' });
    expect(await nl.route.add({ dst: '10.3.0.0/16', gateway: '172.16.0.1' }).catch((error: unknown) => error)).toMatchObject({ tag: 'Unknown', errno: 101 });
  });
});

describe.skipIf(process.getuid?.() !== 0)('rule', () => {
  it('adds, lists and deletes policy rules with priority, from, to, table, iif and oif', async () => {
    const { ns, nl } = await withLink();
    await nl.rule.add({ priority: 1000, from: '10.1.0.0/16', table: 100 });
    await nl.rule.add({ priority: 1001, to: '10.2.0.0/16', table: 101, iif: 'v0' });
    await nl.rule.add({ priority: 1002, table: 1000, oif: 'v1' });
    await nl.rule.add({ priority: 1003, from: 'fd00::/64', table: 102 });
    const rules = await readRules(ns, 4);
    expect(rules).toContainEqual(expect.objectContaining({ priority: 1000, src: '10.1.0.0', srclen: 16, table: '100' }));
    expect(rules).toContainEqual(expect.objectContaining({ priority: 1001, dst: '10.2.0.0', dstlen: 16, table: '101', iif: 'v0' }));
    expect(rules).toContainEqual(expect.objectContaining({ priority: 1002, table: '1000', oif: 'v1' }));
    expect(await readRules(ns, 6)).toContainEqual(expect.objectContaining({ priority: 1003, src: 'fd00::', srclen: 64, table: '102' }));
    const listed = await nl.rule.list();
    expect(listed).toContainEqual(expect.objectContaining({ priority: 1000, from: '10.1.0.0/16', table: 100 }));
    expect(listed).toContainEqual(expect.objectContaining({ priority: 1001, to: '10.2.0.0/16', iif: 'v0', table: 101 }));
    expect(listed).toContainEqual(expect.objectContaining({ priority: 1002, oif: 'v1', table: 1000 }));
    expect(await nl.rule.list(6)).toContainEqual(expect.objectContaining({ priority: 1003, from: 'fd00::/64' }));
    await nl.rule.del({ priority: 1000, from: '10.1.0.0/16', table: 100 });
    await nl.rule.del({ priority: 1003, from: 'fd00::/64', table: 102 });
    expect((await readRules(ns, 4)).map((rule) => rule.priority)).not.toContain(1000);
    expect((await readRules(ns, 6)).map((rule) => rule.priority)).not.toContain(1003);
    expect(await nl.rule.del({ priority: 1000, from: '10.1.0.0/16', table: 100 }).catch((error: unknown) => error)).toMatchObject({ tag: 'NotFound' });
  });
});

describe.skipIf(process.getuid?.() !== 0)('neighbour', () => {
  it('adds, replaces, lists and deletes neighbour entries', async () => {
    const { ns, nl, index } = await withLink();
    await nl.neighbour.add({ link: { name: 'v0' }, address: '10.1.2.9', mac: '02:00:00:00:00:09' });
    await nl.neighbour.add({ link: { name: 'v0' }, address: 'fd00::9', mac: '02:00:00:00:00:0a', state: 'reachable' });
    expect(await readNeighbours(ns, { dev: 'v0' })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '10.1.2.9', lladdr: '02:00:00:00:00:09', state: ['PERMANENT'] }),
        expect.objectContaining({ dst: 'fd00::9', lladdr: '02:00:00:00:00:0a' }),
      ]),
    );
    await nl.neighbour.replace({ link: { name: 'v0' }, address: '10.1.2.9', mac: '02:00:00:00:00:0b' });
    expect((await readNeighbours(ns, { dev: 'v0', family: 4 })).find((entry) => entry.dst === '10.1.2.9')?.lladdr).toBe('02:00:00:00:00:0b');
    const listed = await nl.neighbour.list({ link: { index } });
    expect(listed).toContainEqual({ index, family: 4, address: '10.1.2.9', mac: '02:00:00:00:00:0b', state: 'permanent' });
    await nl.neighbour.del({ link: { name: 'v0' }, address: '10.1.2.9' });
    expect((await readNeighbours(ns, { dev: 'v0', family: 4 })).map((entry) => entry.dst)).not.toContain('10.1.2.9');
    expect(await nl.neighbour.add({ link: { name: 'v0' }, address: '10.1.2.0/24', mac: '02:00:00:00:00:09' }).catch((error: unknown) => error)).toMatchObject({ tag: 'InvalidArgument' });
  });
});
