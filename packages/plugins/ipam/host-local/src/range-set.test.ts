// SPDX-License-Identifier: Apache-2.0
import { parseIp } from '@cni/ip';
import { describe, expect, it } from 'vitest';
import { loadHostLocalConfig } from './config.ts';
import { allocationOrder, canonicalizeRange, canonicalizeRangeSet, rangeSetCapacity, rangeSetToString } from './range-set.ts';

const order = (set: ReturnType<typeof canonicalizeRangeSet>, last?: string): string[] =>
  [...allocationOrder(set, last === undefined ? undefined : parseIp(last))].map(({ ip }) => ip.toString());

describe('canonicalizeRange', () => {
  it('fills in the defaults as upstream', () => {
    const range = canonicalizeRange({ subnet: '10.1.2.0/24' });
    expect([range.start, range.end, range.gateway].map(String)).toEqual(['10.1.2.1', '10.1.2.254', '10.1.2.1']);
    const v6 = canonicalizeRange({ subnet: '2001:db8::/120' });
    expect(v6.end.toString()).toBe('2001:db8::ff');
  });

  it.each([
    [{ subnet: '10.1.2.0/31' }, 'Network 10.1.2.0/31 too small to allocate from'],
    [{ subnet: '10.1.2.3/24' }, 'Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.3.1' }, 'RangeStart 10.1.3.1 not in network 10.1.2.0/24'],
    [{ subnet: '10.1.2.0/24', rangeStart: '10.1.2.50', rangeEnd: '10.1.2.40' }, 'RangeEnd 10.1.2.40 not in network 10.1.2.0/24'],
    [{ subnet: 'nope' }, 'invalid CIDR address: nope'],
    [{ subnet: '10.1.2.0/24', gateway: 'x' }, 'invalid IP address: x'],
  ])('refuses %j', (config, message) => {
    expect(() => canonicalizeRange(config)).toThrow(message);
  });
});

describe('range sets', () => {
  it('refuses mixed families and overlaps', () => {
    expect(() => canonicalizeRangeSet([])).toThrow('empty range set');
    expect(() => canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: '2001:db8::/64' }])).toThrow('mixed address families');
    expect(() => canonicalizeRangeSet([{ subnet: '10.1.2.0/24' }, { subnet: '10.1.2.0/25' }])).toThrow(
      'subnets 10.1.2.1-10.1.2.254 and 10.1.2.1-10.1.2.126 overlap',
    );
  });

  it('orders round-robin after the last reserved address, wrapping across ranges, skipping gateways', () => {
    const set = canonicalizeRangeSet([
      { subnet: '10.1.2.0/29' },
      { subnet: '10.1.3.0/29', rangeStart: '10.1.3.2', rangeEnd: '10.1.3.3' },
    ]);
    expect(rangeSetToString(set)).toBe('10.1.2.1-10.1.2.6,10.1.3.2-10.1.3.3');
    expect(order(set)).toEqual(['10.1.2.2', '10.1.2.3', '10.1.2.4', '10.1.2.5', '10.1.2.6', '10.1.3.2', '10.1.3.3']);
    expect(order(set, '10.1.2.6')).toEqual(['10.1.3.2', '10.1.3.3', '10.1.2.2', '10.1.2.3', '10.1.2.4', '10.1.2.5', '10.1.2.6']);
    expect(order(set, '10.1.3.3')[0]).toBe('10.1.2.2');
    // Outside the set: from the first range's start.
    expect(order(set, '192.168.0.1')[0]).toBe('10.1.2.2');
    expect(rangeSetCapacity(set)).toBe(7n);
  });
});

describe('loadHostLocalConfig', () => {
  const base = { cniVersion: '1.0.0', name: 'net' };

  it('merges requested addresses and prepends the legacy range and ipRanges', () => {
    const config = loadHostLocalConfig({
      conf: {
        ...base,
        ipam: { type: 'host-local', subnet: '10.2.0.0/24', ranges: [[{ subnet: '10.3.0.0/24' }]], dataDir: '/x' },
        runtimeConfig: { ipRanges: [[{ subnet: '10.1.0.0/24' }]], ips: ['10.3.0.9/24'] },
        args: { cni: { ips: ['10.2.0.7'] } },
      },
      argsIp: '10.1.0.5',
    });
    expect(config.ranges.map(rangeSetToString)).toEqual(['10.1.0.1-10.1.0.254', '10.2.0.1-10.2.0.254', '10.3.0.1-10.3.0.254']);
    expect(config.requested.map(String)).toEqual(['10.1.0.5', '10.2.0.7', '10.3.0.9']);
    expect(config.dataDir).toBe('/x');
  });

  it.each([
    [{ ...base }, "IPAM config missing 'ipam' key"],
    [{ ...base, ipam: { type: 'host-local' } }, 'no IP ranges specified'],
    [{ ...base, ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/32' }]] } }, 'invalid range set 0: Network 10.0.0.0/32 too small to allocate from'],
    [{ ...base, ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.0/16' }]] } }, 'range set 0 overlaps with 1'],
    [
      { ...base, cniVersion: '0.2.0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.1.0.0/24' }]] } },
      'CNI version 0.2.0 does not support more than 1 address per family',
    ],
  ])('refuses %j', (conf, message) => {
    expect(() => loadHostLocalConfig({ conf })).toThrow(message);
  });
});
