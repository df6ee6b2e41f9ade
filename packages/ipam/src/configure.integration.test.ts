// SPDX-License-Identifier: Apache-2.0
import { addVethPair, readAddressList, readLink, readRoutes, readSysctl, setSysctl, useTestNetns } from '@cni/testkit';
import type { ResultV100 } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { configureIface } from './configure.ts';
import { IpamError } from './errors.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('configureIface', () => {
  it('adds addresses, enables IPv6, sets the link up and adds routes with gateway, priority, table and scope', async () => {
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'vh0' }, { ns: netns.container, name: 'eth0' }, { up: false });
    await netns.execHost(['ip', 'link', 'set', 'vh0', 'up']);
    await netns.execHost(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'vh0']);
    // The host side learns from gratuitous ARP: the announcement arp_notify makes is then visible.
    await setSysctl(netns.host, 'net/ipv4/conf/vh0/arp_accept', 1);
    await setSysctl(netns.container, 'net/ipv6/conf/eth0/disable_ipv6', 1);
    const result: ResultV100 = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: netns.container.path }],
      ips: [
        { interface: 0, address: '10.9.0.2/24', gateway: '10.9.0.1' },
        { interface: 0, address: 'fd00:9::2/64', gateway: 'fd00:9::1' },
        { address: '10.99.0.2/24' }, // no interface index: skipped, as upstream
      ],
      routes: [
        { dst: '0.0.0.0/0' },
        { dst: '192.168.0.0/16', gw: '10.9.0.254', priority: 100 },
        { dst: '172.16.0.0/16', table: 100 },
        { dst: '10.200.0.0/16', gw: '10.9.0.1', scope: 0 },
        { dst: '::/0' },
      ],
    };
    await configureIface('eth0', result, { netns: netns.container.path, dad: 'skip', arpNotify: true });

    expect((await readAddressList(netns.container, 'eth0')).sort()).toEqual(['10.9.0.2/24', 'fd00:9::2/64']);
    expect((await readLink(netns.container, 'eth0'))?.flags).toContain('UP');
    expect(await readSysctl(netns.container, 'net/ipv6/conf/eth0/disable_ipv6')).toBe('0');
    expect(await readSysctl(netns.container, 'net/ipv6/conf/eth0/keep_addr_on_down')).toBe('1');
    expect(await readSysctl(netns.container, 'net/ipv4/conf/eth0/arp_notify')).toBe('1');
    const v4 = await readRoutes(netns.container, { family: 4 });
    expect(v4.find((r) => r.dst === 'default')).toMatchObject({ gateway: '10.9.0.1', dev: 'eth0' });
    expect(v4.find((r) => r.dst === '192.168.0.0/16')).toMatchObject({ gateway: '10.9.0.254', metric: 100 });
    expect(v4.find((r) => r.dst === '10.200.0.0/16')).toMatchObject({ gateway: '10.9.0.1' });
    const table100 = await readRoutes(netns.container, { family: 4, table: 100 });
    expect(table100.find((r) => r.dst === '172.16.0.0/16')).toMatchObject({ gateway: '10.9.0.1', dev: 'eth0' });
    const v6 = await readRoutes(netns.container, { family: 6 });
    expect(v6.find((r) => r.dst === 'default')).toMatchObject({ gateway: 'fd00:9::1', dev: 'eth0' });
    // The container announced 10.9.0.2 with its MAC when the link came up.
    const mac = (await readLink(netns.container, 'eth0'))?.address;
    let neighbour: { dst: string; lladdr?: string } | undefined;
    for (let tries = 0; tries < 50 && neighbour?.lladdr === undefined; tries++) {
      const list = JSON.parse((await netns.execHost(['ip', '-j', 'neigh', 'show', 'dev', 'vh0'])).stdout) as { dst: string; lladdr?: string }[];
      neighbour = list.find((n) => n.dst === '10.9.0.2');
      if (neighbour?.lladdr === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(neighbour?.lladdr).toBe(mac);
  });

  it('appends a route a second interface also routes (two networks with a default route each), as upstream does', async () => {
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'va0' }, { ns: netns.container, name: 'eth0' });
    await addVethPair({ ns: netns.host, name: 'vb0' }, { ns: netns.container, name: 'net1' });
    const on = (ifName: string, address: string, gateway: string): ResultV100 => ({
      cniVersion: '1.1.0',
      interfaces: [{ name: ifName, sandbox: netns.container.path }],
      ips: [{ interface: 0, address, gateway }],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    await configureIface('eth0', on('eth0', '10.91.0.2/24', '10.91.0.1'), { netns: netns.container.path, dad: 'skip' });
    await configureIface('net1', on('net1', '10.92.0.2/24', '10.92.0.1'), { netns: netns.container.path, dad: 'skip' });
    const routes = JSON.stringify(await readRoutes(netns.container, { family: 4 }));
    expect(routes).toContain('10.91.0.1');
    expect(routes).toContain('10.92.0.1');
  });

  it('settles DAD before adding IPv6 routes, and reports upstream errors', async () => {
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'vh1' }, { ns: netns.container, name: 'eth0' }, { up: false });
    await netns.execHost(['ip', 'link', 'set', 'vh1', 'up']);
    await netns.execHost(['ip', 'addr', 'add', '10.7.0.1/24', 'dev', 'vh1']);
    await setSysctl(netns.host, 'net/ipv4/conf/vh1/arp_accept', 1);
    const result: ResultV100 = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0' }],
      ips: [
        { interface: 0, address: 'fd00:7::2/64', gateway: 'fd00:7::1' },
        { interface: 0, address: '10.7.0.2/24' },
      ],
      routes: [{ dst: 'fd00:8::/64' }],
    };
    await configureIface('eth0', result, { netns: netns.container.path });
    // Without arpNotify no announcement: the host has not learnt the container's address.
    const neighbours = JSON.parse((await netns.execHost(['ip', '-j', 'neigh', 'show', 'dev', 'vh1'])).stdout) as { dst: string }[];
    expect(neighbours.find((n) => n.dst === '10.7.0.2')).toBeUndefined();
    // Settled: the address is no longer tentative, and the route went in after it.
    const addrs = JSON.parse((await netns.execContainer(['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout) as {
      addr_info: { local: string; tentative?: boolean }[];
    }[];
    expect(addrs[0]!.addr_info.find((a) => a.local === 'fd00:7::2')?.tentative).toBeUndefined();
    expect((await readRoutes(netns.container, { family: 6 })).find((r) => r.dst === 'fd00:8::/64')).toMatchObject({ gateway: 'fd00:7::1' });

    const fail = (ifName: string, r: ResultV100) => configureIface(ifName, r, { netns: netns.container.path }).catch((e: unknown) => e);
    expect(await fail('eth0', { cniVersion: '1.1.0' })).toMatchObject({ message: 'no interfaces to configure', code: 999 });
    const missing = await fail('nope0', { cniVersion: '1.1.0', interfaces: [{ name: 'nope0' }] });
    expect(IpamError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/^failed to lookup "nope0": /);
    const wrongIndex = await fail('eth0', {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'other' }],
      ips: [{ interface: 0, address: '10.1.0.2/24' }],
    });
    expect((wrongIndex as Error).message).toBe('failed to add IP addr {10.1.0.2/24 <nil> 0} to "eth0": invalid interface index');
    const duplicate = await fail('eth0', result);
    expect((duplicate as Error).message).toMatch(/^failed to add IP addr \{fd00:7::2\/64 fd00:7::1 0\} to "eth0": /);
  });
});
