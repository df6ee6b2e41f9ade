// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { SysctlError } from './errors.ts';
import { sysctlPath } from './sysctl.ts';

describe('sysctlPath', () => {
  it.each([
    ['net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward'],
    ['net/ipv4/ip_forward', '/proc/sys/net/ipv4/ip_forward'],
    // Dots: a slash stands for a dot inside a component, as sysctl(8) reads it.
    ['net.ipv4.conf.eth0/100.rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'],
    // Slashes: dots are left alone.
    ['net/ipv4/conf/eth0.100/rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'],
    ['net.core.somaxconn', '/proc/sys/net/core/somaxconn'],
  ])('maps %s to %s', (key, path) => {
    expect(sysctlPath(key)).toBe(path);
  });

  it('puts a dotted interface name in after converting, so its dots stay', () => {
    expect(sysctlPath('net.ipv4.conf.IFNAME.rp_filter', { ifname: 'eth0.100' })).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
    expect(sysctlPath('net/ipv6/conf/IFNAME/accept_ra', { ifname: 'v.1.2' })).toBe('/proc/sys/net/ipv6/conf/v.1.2/accept_ra');
    expect(sysctlPath('net.ipv4.ip_forward', { ifname: 'eth0' })).toBe('/proc/sys/net/ipv4/ip_forward');
  });

  it.each([
    ['kernel.hostname', /only net\.\* keys/],
    ['vm/swappiness', /only net\.\* keys/],
    ['net', /only net\.\* keys/],
    ['net.ipv4.//.ip_forward', /component "\.\." is not allowed/],
    ['net/../kernel/hostname', /component "\.\." is not allowed/],
    ['net/ipv4//ip_forward', /component "" is not allowed/],
    ['net/./ipv4', /component "\." is not allowed/],
    ['/proc/sys/net/ipv4/ip_forward', /only net\.\* keys/],
    ['net.ipv4\0', /NUL/],
  ])('refuses %j', (key, message) => {
    expect(() => sysctlPath(key)).toThrow(message);
    expect(() => sysctlPath(key)).toThrow(SysctlError);
  });

  it('refuses interface names that would traverse', () => {
    for (const ifname of ['..', '.', '', 'a/b']) {
      expect(() => sysctlPath('net.ipv4.conf.IFNAME.rp_filter', { ifname })).toThrow(/invalid interface name/);
    }
  });

  it('reports the key on the error', () => {
    try {
      sysctlPath('kernel.x');
      expect.unreachable();
    } catch (error) {
      expect(SysctlError.isInstance(error) && error.key).toBe('kernel.x');
    }
  });
});
