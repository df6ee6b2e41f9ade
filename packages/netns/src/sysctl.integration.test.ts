// SPDX-License-Identifier: Apache-2.0
// Root only: sysctls of a test's own namespace, checked with sysctl(8) and cat through `ip netns exec`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SysctlError } from './errors.ts';
import { openNetns } from './netns.ts';
import { readSysctl, writeSysctl } from './sysctl.ts';
import { inIpNetns, ip, makeIpNetns } from './testing/ip-netns.ts';

describe.skipIf(process.getuid?.() !== 0)('sysctl in a namespace as root', () => {
  it('writes in the namespace only, as sysctl(8) sees it', () => {
    const name = makeIpNetns();
    const host = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const value = host === '1' ? '0' : '1';
    writeSysctl('net.ipv4.ip_forward', value, { netns: `/var/run/netns/${name}` });
    expect(inIpNetns(name, 'sysctl', '-n', 'net.ipv4.ip_forward').trim()).toBe(value);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(host);
    using netns = openNetns(`/var/run/netns/${name}`);
    expect(readSysctl('net/ipv4/ip_forward', { netns })).toBe(value);
  });

  it('handles a dotted interface name in all three spellings', () => {
    const name = makeIpNetns();
    ip('-n', name, 'link', 'add', 'v0.100', 'type', 'veth', 'peer', 'name', 'p0');
    const netns = `/var/run/netns/${name}`;
    const oracle = () => inIpNetns(name, 'cat', '/proc/sys/net/ipv4/conf/v0.100/rp_filter').trim();

    writeSysctl('net.ipv4.conf.IFNAME.rp_filter', 2, { netns, ifname: 'v0.100' });
    expect(oracle()).toBe('2');
    writeSysctl('net.ipv4.conf.v0/100.rp_filter', 1, { netns });
    expect(oracle()).toBe('1');
    writeSysctl('net/ipv4/conf/v0.100/rp_filter', 0, { netns });
    expect(oracle()).toBe('0');
    expect(inIpNetns(name, 'sysctl', '-n', 'net.ipv4.conf.v0/100.rp_filter').trim()).toBe('0');
    expect(readSysctl('net.ipv4.conf.IFNAME.rp_filter', { netns, ifname: 'v0.100' })).toBe('0');
  });

  it('fails on an unknown key without creating it, and refuses other subsystems before any I/O', () => {
    const name = makeIpNetns();
    const netns = `/var/run/netns/${name}`;
    expect(() => writeSysctl('net.ipv4.no_such_key', 1, { netns })).toThrow(expect.objectContaining({ code: 'ENOENT', key: 'net.ipv4.no_such_key' }));
    expect(() => readSysctl('net.ipv4.conf.nosuch0.rp_filter', { netns })).toThrow(/no such sysctl/);
    expect(() => writeSysctl('kernel.hostname', 'x', { netns })).toThrow(SysctlError);
    expect(() => writeSysctl('net.ipv4.//.//.kernel.hostname', 'x', { netns })).toThrow(/not allowed/);
  });
});
