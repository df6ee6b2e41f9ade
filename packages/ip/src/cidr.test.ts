// SPDX-License-Identifier: Apache-2.0
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyCidr, cidrOf, ipv4, ipv6 } from './__tests__/arbitraries.ts';
import {
  Cidr,
  IpAddress,
  IpError,
  formatCidr,
  maskFromPrefix,
  parseCidr,
  parseIp,
  parseIpOrCidr,
  prefixFromMask,
  tryParseCidr,
} from './index.ts';

describe('parseCidr', () => {
  // Cases after Go's net parseCIDRTests: [text, address as printed, network as printed].
  it.each([
    ['135.104.0.0/32', '135.104.0.0', '135.104.0.0/32'],
    ['0.0.0.0/24', '0.0.0.0', '0.0.0.0/24'],
    ['135.104.0.0/24', '135.104.0.0', '135.104.0.0/24'],
    ['135.104.0.1/32', '135.104.0.1', '135.104.0.1/32'],
    ['135.104.0.1/24', '135.104.0.1', '135.104.0.0/24'],
    ['::1/128', '::1', '::1/128'],
    ['abcd:2345::/127', 'abcd:2345::', 'abcd:2345::/127'],
    ['abcd:2345::/65', 'abcd:2345::', 'abcd:2345::/65'],
    ['abcd:2345::/64', 'abcd:2345::', 'abcd:2345::/64'],
    ['abcd:2345::/63', 'abcd:2345::', 'abcd:2345::/63'],
    ['abcd:2345::/33', 'abcd:2345::', 'abcd:2345::/33'],
    ['abcd:2345::/32', 'abcd:2345::', 'abcd:2345::/32'],
    ['abcd:2344::/31', 'abcd:2344::', 'abcd:2344::/31'],
    ['abcd:2300::/24', 'abcd:2300::', 'abcd:2300::/24'],
    ['abcd:2345::/24', 'abcd:2345::', 'abcd:2300::/24'],
    ['2001:DB8::/48', '2001:db8::', '2001:db8::/48'],
    ['2001:DB8::1/48', '2001:db8::1', '2001:db8::/48'],
    ['10.0.0.0/024', '10.0.0.0', '10.0.0.0/24'],
    ['0.0.0.0/0', '0.0.0.0', '0.0.0.0/0'],
    ['::/0', '::', '::/0'],
    // Mapped text keeps its 128-bit prefix, and prints as Go prints such an IPNet.
    ['::ffff:10.1.2.3/120', '10.1.2.3', '10.1.2.0/120'],
  ])('%s', (text, address, network) => {
    const cidr = parseCidr(text);
    expect(cidr.address.toString()).toBe(address);
    expect(cidr.masked().toString()).toBe(network);
  });

  it.each([
    '',
    '10.0.0.0',
    '10.0.0.0/',
    '10.0.0.0/33',
    '192.168.1.1/255.255.255.0',
    '192.168.1.1/35',
    '2001:db8::1/129',
    '2001:db8::1/-1',
    '2001:db8::1/-0',
    '2001:db8::1/+1',
    '10.0.0.0/ 8',
    '10.0.0.0/8 ',
    '10.0.0.0/8/8',
    '10.0.0.0/0x8',
    '10.0.0.0/99999999999999999999',
    '-0.0.0.0/32',
    '0.-1.0.0/32',
    '0.0.-2.0/32',
    '0.0.0.-3/32',
    '0.0.0.0/-0',
    '127.000.000.001/32',
    '127.001.002.003/32',
    '::ffff:127.001.002.003/123',
    'fe80::1%eth0/64',
    '/24',
  ])('rejects %j with Go ParseCIDR text', (text) => {
    expect(tryParseCidr(text)).toBeUndefined();
    expect(() => parseCidr(text)).toThrowError(`invalid CIDR address: ${JSON.stringify(text)}`);
  });

  it('gives the bad text on the error', () => {
    try {
      parseCidr('10.0.0.0/33');
      expect.unreachable();
    } catch (error) {
      expect(IpError.isInstance(error)).toBe(true);
      expect((error as IpError).message).toBe('invalid CIDR address: "10.0.0.0/33"');
      expect((error as IpError).input).toBe('10.0.0.0/33');
    }
  });

  it('round-trips its text: parse(print(c)) = c', () => {
    fc.assert(
      fc.property(anyCidr, (cidr) => {
        const again = parseCidr(cidr.toString());
        expect(again.equals(cidr)).toBe(true);
        expect(parseCidr(cidr.masked().toString()).isNetwork).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseIpOrCidr', () => {
  it('reads an address with an optional prefix', () => {
    const plain = parseIpOrCidr('10.1.2.3');
    expect(plain).toBeInstanceOf(IpAddress);
    expect(plain.toString()).toBe('10.1.2.3');
    const withPrefix = parseIpOrCidr('10.1.2.3/24');
    expect(withPrefix).toBeInstanceOf(Cidr);
    expect(withPrefix.toString()).toBe('10.1.2.3/24');
    expect(parseIpOrCidr('::ffff:10.1.2.3').toString()).toBe('10.1.2.3');
    expect(() => parseIpOrCidr('10.1.2')).toThrowError('invalid IP address: "10.1.2"');
    expect(() => parseIpOrCidr('10.1.2.3/40')).toThrowError('invalid CIDR address: "10.1.2.3/40"');
  });
});

describe('Cidr', () => {
  it('keeps host bits in address and text, and masks them in network', () => {
    const cidr = parseCidr('10.1.2.3/24');
    expect(cidr.toString()).toBe('10.1.2.3/24');
    expect(JSON.stringify({ address: cidr })).toBe('{"address":"10.1.2.3/24"}');
    expect(cidr.network.toString()).toBe('10.1.2.0');
    expect(cidr.isNetwork).toBe(false);
    expect(cidr.masked().isNetwork).toBe(true);
    const network = parseCidr('10.1.2.0/24');
    expect(network.masked()).toBe(network);
  });

  it('answers family, bits, mask, size, first, last, broadcast', () => {
    const v4 = parseCidr('10.1.2.3/24');
    expect([v4.family, v4.bits, v4.prefix]).toEqual([4, 32, 24]);
    expect(v4.mask.toString()).toBe('255.255.255.0');
    expect(v4.size).toBe(256n);
    expect(v4.first().toString()).toBe('10.1.2.0');
    expect(v4.last().toString()).toBe('10.1.2.255');
    expect(v4.broadcast()?.toString()).toBe('10.1.2.255');

    const v6 = parseCidr('2001:db8::5/64');
    expect([v6.family, v6.bits, v6.prefix]).toEqual([6, 128, 64]);
    expect(v6.mask.toString()).toBe('ffff:ffff:ffff:ffff::');
    expect(v6.size).toBe(1n << 64n);
    expect(v6.first().toString()).toBe('2001:db8::');
    expect(v6.last().toString()).toBe('2001:db8::ffff:ffff:ffff:ffff');
    expect(v6.broadcast()).toBeUndefined();

    expect(parseCidr('0.0.0.0/0').size).toBe(1n << 32n);
    expect(parseCidr('::/0').last().toString()).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(parseCidr('10.0.0.7/32').last().toString()).toBe('10.0.0.7');
  });

  it('checks the prefix length it is built with', () => {
    expect(() => new Cidr(parseIp('10.0.0.0'), 33)).toThrowError('invalid prefix length 33 for IPv4, must be [0, 32]');
    expect(() => new Cidr(parseIp('::'), 129)).toThrowError('invalid prefix length 129 for IPv6, must be [0, 128]');
    expect(() => new Cidr(parseIp('::'), 1.5)).toThrow(IpError);
    expect(() => new Cidr(parseIp('::'), -1)).toThrow(IpError);
  });

  it('contains addresses of its family only', () => {
    const cidr = parseCidr('10.1.2.3/24');
    expect(cidr.contains(parseIp('10.1.2.0'))).toBe(true);
    expect(cidr.contains(parseIp('10.1.2.255'))).toBe(true);
    expect(cidr.contains(parseIp('10.1.3.0'))).toBe(false);
    expect(cidr.contains(parseIp('10.1.1.255'))).toBe(false);
    expect(parseCidr('::/0').contains(parseIp('10.1.2.3'))).toBe(false);
    expect(parseCidr('0.0.0.0/0').contains(parseIp('::1'))).toBe(false);
    expect(parseCidr('2001:db8::/32').contains(parseIp('2001:db8:ffff::1'))).toBe(true);
    expect(parseCidr('2001:db8::/32').contains(parseIp('2001:db9::'))).toBe(false);
  });

  it('contains exactly what node:net BlockList contains', () => {
    const family = fc.constantFrom(4 as const, 6 as const);
    fc.assert(
      fc.property(
        family.chain((f) => fc.tuple(cidrOf(f), f === 4 ? ipv4 : ipv6)),
        ([cidr, ip]) => {
          const list = new BlockList();
          const type = cidr.family === 4 ? 'ipv4' : 'ipv6';
          list.addSubnet(cidr.network.toString(), cidr.prefix, type);
          expect(cidr.contains(ip)).toBe(list.check(ip.toString(), type));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('contains its first and last address, and nothing just outside', () => {
    fc.assert(
      fc.property(anyCidr, (cidr) => {
        expect(cidr.contains(cidr.first())).toBe(true);
        expect(cidr.contains(cidr.last())).toBe(true);
        expect(cidr.contains(cidr.address)).toBe(true);
        expect(cidr.last().value - cidr.first().value + 1n).toBe(cidr.size);
        const before = cidr.first().value - 1n;
        if (before >= 0n) expect(cidr.contains(new IpAddress(cidr.family, before))).toBe(false);
      }),
    );
  });

  it('overlaps symmetrically, exactly when one holds the other network', () => {
    expect(parseCidr('10.0.0.0/8').overlaps(parseCidr('10.1.0.0/16'))).toBe(true);
    expect(parseCidr('10.1.0.0/16').overlaps(parseCidr('10.0.0.0/8'))).toBe(true);
    expect(parseCidr('10.1.0.0/16').overlaps(parseCidr('10.2.0.0/16'))).toBe(false);
    expect(parseCidr('0.0.0.0/0').overlaps(parseCidr('::/0'))).toBe(false);
    expect(parseCidr('2001:db8::/64').overlaps(parseCidr('2001:db8::ffff/128'))).toBe(true);
    fc.assert(
      fc.property(fc.constantFrom(4 as const, 6 as const).chain((f) => fc.tuple(cidrOf(f), cidrOf(f))), ([a, b]) => {
        expect(a.overlaps(b)).toBe(b.overlaps(a));
        expect(a.overlaps(b)).toBe(a.contains(b.network) || b.contains(a.network));
        if (a.containsCidr(b)) expect(a.overlaps(b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(anyCidr, anyCidr, (a, b) => {
        expect(a.overlaps(b)).toBe(b.overlaps(a));
      }),
    );
  });

  it('overlaps when they share some address (small prefixes, exhaustively checked)', () => {
    const small = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 24, max: 32 })).map(
      ([low, prefix]) => new Cidr(new IpAddress(4, 0x0a000000n | BigInt(low)), prefix),
    );
    fc.assert(
      fc.property(small, small, (a, b) => {
        let shared = false;
        for (let value = a.first().value; value <= a.last().value && !shared; value++) {
          shared = b.contains(new IpAddress(4, value));
        }
        expect(a.overlaps(b)).toBe(shared);
      }),
    );
  });

  it('tells whether it contains another prefix', () => {
    expect(parseCidr('10.0.0.0/8').containsCidr(parseCidr('10.1.0.0/16'))).toBe(true);
    expect(parseCidr('10.1.0.0/16').containsCidr(parseCidr('10.0.0.0/8'))).toBe(false);
    expect(parseCidr('10.1.0.0/16').containsCidr(parseCidr('10.1.0.0/16'))).toBe(true);
    expect(parseCidr('::/0').containsCidr(parseCidr('10.0.0.0/8'))).toBe(false);
  });

  it('compares by address and prefix', () => {
    expect(parseCidr('10.1.2.3/24').equals(parseCidr('10.1.2.3/24'))).toBe(true);
    expect(parseCidr('10.1.2.3/24').equals(parseCidr('10.1.2.0/24'))).toBe(false);
    expect(parseCidr('10.1.2.3/24').equals(parseCidr('10.1.2.3/25'))).toBe(false);
    expect(parseCidr('0.0.0.0/0').equals(parseCidr('::/0'))).toBe(false);
  });
});

describe('formatCidr, maskFromPrefix, prefixFromMask', () => {
  it('formats an address with a prefix, host bits kept', () => {
    expect(formatCidr(parseIp('10.1.2.3'), 24)).toBe('10.1.2.3/24');
    expect(formatCidr(parseIp('2001:db8::5'), 64)).toBe('2001:db8::5/64');
    expect(() => formatCidr(parseIp('10.1.2.3'), 64)).toThrow(IpError);
  });

  it('builds masks', () => {
    expect(maskFromPrefix(4, 0).toString()).toBe('0.0.0.0');
    expect(maskFromPrefix(4, 24).toString()).toBe('255.255.255.0');
    expect(maskFromPrefix(4, 32).toString()).toBe('255.255.255.255');
    expect(maskFromPrefix(6, 64).toString()).toBe('ffff:ffff:ffff:ffff::');
    expect(maskFromPrefix(6, 128).toString()).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(() => maskFromPrefix(4, 33)).toThrow(IpError);
  });

  it('reads prefix lengths back from masks, and refuses holes', () => {
    for (const family of [4, 6] as const) {
      for (let prefix = 0; prefix <= (family === 4 ? 32 : 128); prefix++) {
        expect(prefixFromMask(maskFromPrefix(family, prefix))).toBe(prefix);
      }
    }
    expect(() => prefixFromMask(parseIp('255.0.255.0'))).toThrowError('non-contiguous netmask "255.0.255.0"');
    expect(() => prefixFromMask(parseIp('0.0.0.1'))).toThrow(IpError);
  });
});
