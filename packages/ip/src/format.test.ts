// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupsOf, ipv4Value, ipv6NotMapped } from './__tests__/arbitraries.ts';
import { formatIpv4, formatIpv6 } from './format.ts';

const v6 = (groups: number[]): bigint => groups.reduce((value, g) => (value << 16n) | BigInt(g), 0n);

describe('formatIpv6 prints as Go net.IP.String()', () => {
  // Cases from Go's net ipStringTests and RFC 5952 section 4.
  it.each([
    [[0x2001, 0xdb8, 0, 0, 0, 0x123, 0x12, 1], '2001:db8::123:12:1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 1, 0, 1, 0, 1], '2001:db8:0:1:0:1:0:1'],
    [[0x2001, 0xdb8, 1, 0, 1, 0, 1, 0], '2001:db8:1:0:1:0:1:0'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 0], '2001:db8:0:0:1::'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    [[0, 2, 3, 4, 5, 6, 7, 8], '0:2:3:4:5:6:7:8'],
    [[1, 2, 3, 4, 5, 6, 7, 0], '1:2:3:4:5:6:7:0'],
    [[0xfe80, 0, 0, 0, 0, 0, 0, 0], 'fe80::'],
    [[0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789], 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    // IPv4-compatible (deprecated) addresses stay hex, as netip prints them.
    [[0, 0, 0, 0, 0, 0, 0x102, 0x304], '::102:304'],
    // IPv4-mapped addresses print as bare IPv4: Go's String() tries To4() first.
    [[0, 0, 0, 0, 0, 0xffff, 0x102, 0x304], '1.2.3.4'],
    [[0, 0, 0, 0, 0, 0xffff, 0, 0], '0.0.0.0'],
    // One group off from mapped: hex again.
    [[0, 0, 0, 0, 0, 0xfffe, 0x102, 0x304], '::fffe:102:304'],
    [[0, 0, 0, 0, 1, 0xffff, 0x102, 0x304], '::1:ffff:102:304'],
  ])('%j → %s', (groups, text) => {
    expect(formatIpv6(v6(groups))).toBe(text);
  });

  it('agrees with the WHATWG URL serialiser (same RFC 5952 rules) on every non-mapped value', () => {
    fc.assert(
      fc.property(ipv6NotMapped, (value) => {
        const full = groupsOf(value).map((g) => g.toString(16)).join(':');
        const oracle = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        expect(formatIpv6(value)).toBe(oracle);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatIpv4', () => {
  it('prints dotted quads', () => {
    expect(formatIpv4(0)).toBe('0.0.0.0');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv4(0x0a010203)).toBe('10.1.2.3');
  });

  it('agrees with the URL serialiser', () => {
    fc.assert(
      fc.property(ipv4Value, (value) => {
        expect(formatIpv4(Number(value))).toBe(new URL(`http://${Number(value)}/`).hostname);
      }),
    );
  });
});
