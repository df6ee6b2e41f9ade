// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { anyIp, ipv4, ipv6 } from './__tests__/arbitraries.ts';
import { parseAddressText } from './address.ts';
import { IpAddress, IpError, ipAdd, ipCompare, isIpv4, isIpv6, nextIp, parseIp, prevIp, tryParseIp } from './index.ts';

describe('parseIp', () => {
  // Cases after Go's net parseIPTests: what net.ParseIP accepts and how String() prints it.
  it.each([
    ['127.0.0.1', 4, '127.0.0.1'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['255.255.255.255', 4, '255.255.255.255'],
    ['::ffff:127.1.2.3', 4, '127.1.2.3'],
    ['::ffff:4a7d:2b63', 4, '74.125.43.99'],
    ['::FFFF:10.0.0.1', 4, '10.0.0.1'],
    ['2001:4860:0:2001::68', 6, '2001:4860:0:2001::68'],
    ['2001:4860:0000:2001:0000:0000:0000:0068', 6, '2001:4860:0:2001::68'],
    ['2001:DB8::5', 6, '2001:db8::5'],
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, '0:2:3:4:5:6:7:8'],
    ['::1.2.3.4', 6, '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', 6, '1:2:3:4:5:6:102:304'],
    ['::', 6, '::'],
    ['0:0:0:0:0:0:0:1', 6, '::1'],
  ] as const)('accepts %s', (text, family, printed) => {
    const ip = parseIp(text);
    expect(ip.family).toBe(family);
    expect(ip.toString()).toBe(printed);
  });

  it.each([
    '',
    '127.001.002.003',
    '::ffff:127.001.002.003',
    '123.000.000.000',
    '0123.0.0.1',
    '1.2..4',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '-0.0.0.0',
    '0x1.2.3.4',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4\n',
    '1.2.3.4/24',
    '::1/128',
    'a1:a2:a3:a4::b1:b2:b3:b4',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:1.2.3.4',
    '1::2::3',
    '12345::',
    ':1::',
    ':::',
    '[::1]',
    'fe80::1%lo0',
    'fe80::1%911',
    'fe80::1%',
    'g::',
    'localhost',
  ])('rejects %j', (text) => {
    expect(tryParseIp(text)).toBeUndefined();
    expect(() => parseIp(text)).toThrowError(`invalid IP address: ${JSON.stringify(text)}`);
  });

  it('names the bad input on the error', () => {
    try {
      parseIp('10.0.0.256');
      expect.unreachable();
    } catch (error) {
      expect(IpError.isInstance(error)).toBe(true);
      expect(IpError.isInstance(new Error('x'))).toBe(false);
      expect((error as IpError).input).toBe('10.0.0.256');
      expect((error as IpError).message).toBe('invalid IP address: "10.0.0.256"');
    }
  });

  it('accepts what node:net accepts for generated texts, and prints them back', () => {
    fc.assert(
      fc.property(anyIp, (ip) => {
        const text = ip.toString();
        expect(isIP(text)).toBe(ip.family);
        expect(parseIp(text).equals(ip)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts and refuses the same texts as inet_pton (node:net isIP), zones aside', () => {
    // Tokens that combine into edge cases: leading zeros, long groups, several '::', stray dots.
    const token = fc.constantFrom('0', '1', '00', '255', '256', '01', 'ffff', 'FFFF', '12345', 'a', ':', '::', '.', '1.2.3.4', '0.0', 'g', '');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 14 }), (parts) => {
        const text = parts.join('');
        expect(tryParseIp(text) !== undefined, text).toBe(isIP(text) !== 0);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the value ip-address reads, for every form fast-check writes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
        const expected = text.includes(':') ? new Address6(text).bigInt() : new Address4(text).bigInt();
        const parsed = parseAddressText(text);
        expect(parsed?.value, text).toBe(expected);
        expect(parsed?.family).toBe(text.includes(':') ? 6 : 4);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads every spelling of an IPv6 value back to the same value', () => {
    fc.assert(
      fc.property(ipv6, fc.boolean(), (ip, upper) => {
        const full = Array.from({ length: 8 }, (_, index) => ((ip.value >> BigInt(112 - 16 * index)) & 0xffffn).toString(16).padStart(4, '0')).join(':');
        const text = upper ? full.toUpperCase() : full;
        expect(parseIp(text).value).toBe(ip.value);
      }),
    );
  });
});

describe('IpAddress', () => {
  it('checks family and value range', () => {
    expect(() => new IpAddress(4, 1n << 32n)).toThrow(IpError);
    expect(() => new IpAddress(4, -1n)).toThrow(IpError);
    expect(() => new IpAddress(6, 1n << 128n)).toThrow(IpError);
    expect(() => new IpAddress(5 as 4, 0n)).toThrow('invalid address family 5, expected 4 or 6');
    expect(new IpAddress(6, (1n << 128n) - 1n).toString()).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });

  it('converts to and from bytes in network order', () => {
    expect([...parseIp('10.1.2.3').toBytes()]).toEqual([10, 1, 2, 3]);
    expect([...parseIp('2001:db8::5').toBytes()]).toEqual([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    expect(IpAddress.fromBytes([192, 168, 0, 1]).toString()).toBe('192.168.0.1');
    // 16 mapped bytes stay IPv6 (they still print as Go prints them); unmap() is Go's To4().
    const mapped = IpAddress.fromBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    expect(mapped.family).toBe(6);
    expect(mapped.isIpv4Mapped).toBe(true);
    expect(mapped.toString()).toBe('10.0.0.1');
    expect(mapped.unmap().equals(parseIp('10.0.0.1'))).toBe(true);
    expect(() => IpAddress.fromBytes([1, 2, 3])).toThrow('invalid address length 3, expected 4 or 16 bytes');
    fc.assert(
      fc.property(anyIp, (ip) => {
        expect(IpAddress.fromBytes(ip.toBytes()).equals(ip)).toBe(true);
      }),
    );
  });

  it('serialises to its text in JSON', () => {
    expect(JSON.stringify({ gateway: parseIp('2001:db8::1') })).toBe('{"gateway":"2001:db8::1"}');
  });

  it('classifies as Go does', () => {
    const classes = (text: string) => {
      const ip = parseIp(text);
      return [ip.isUnspecified, ip.isLoopback, ip.isMulticast, ip.isLinkLocalUnicast, ip.isGlobalUnicast];
    };
    expect(classes('0.0.0.0')).toEqual([true, false, false, false, false]);
    expect(classes('::')).toEqual([true, false, false, false, false]);
    expect(classes('127.0.0.1')).toEqual([false, true, false, false, false]);
    expect(classes('127.255.0.9')).toEqual([false, true, false, false, false]);
    expect(classes('::1')).toEqual([false, true, false, false, false]);
    expect(classes('224.0.0.1')).toEqual([false, false, true, false, false]);
    expect(classes('239.255.255.255')).toEqual([false, false, true, false, false]);
    expect(classes('ff02::1')).toEqual([false, false, true, false, false]);
    expect(classes('169.254.1.1')).toEqual([false, false, false, true, false]);
    expect(classes('fe80::1')).toEqual([false, false, false, true, false]);
    expect(classes('febf::1')).toEqual([false, false, false, true, false]);
    expect(classes('fec0::1')).toEqual([false, false, false, false, true]);
    expect(classes('255.255.255.255')).toEqual([false, false, false, false, false]);
    expect(classes('10.1.2.3')).toEqual([false, false, false, false, true]);
    expect(classes('2001:db8::5')).toEqual([false, false, false, false, true]);
    expect(classes('fd00::1')).toEqual([false, false, false, false, true]);
    // A mapped IPv6 value is classified by its IPv4 address, as Go's To4() makes it.
    const mapped = IpAddress.fromBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(mapped.isLoopback).toBe(true);
    expect(IpAddress.fromBytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]).isUnspecified).toBe(true);
  });
});

describe('isIpv4 / isIpv6', () => {
  it('answers for text and for addresses, a mapped address counting as IPv4', () => {
    expect(isIpv4('10.0.0.1')).toBe(true);
    expect(isIpv4('::ffff:10.0.0.1')).toBe(true);
    expect(isIpv6('::ffff:10.0.0.1')).toBe(false);
    expect(isIpv6('2001:db8::1')).toBe(true);
    expect(isIpv4('2001:db8::1')).toBe(false);
    expect(isIpv4('nonsense')).toBe(false);
    expect(isIpv6('nonsense')).toBe(false);
    expect(isIpv4(parseIp('1.2.3.4'))).toBe(true);
    expect(isIpv6(parseIp('::1'))).toBe(true);
  });
});

describe('next, previous, add, compare', () => {
  it('steps across octet and group boundaries', () => {
    expect(nextIp(parseIp('10.1.2.255'))?.toString()).toBe('10.1.3.0');
    expect(prevIp(parseIp('10.1.3.0'))?.toString()).toBe('10.1.2.255');
    expect(nextIp(parseIp('2001:db8::ffff'))?.toString()).toBe('2001:db8::1:0');
    expect(prevIp(parseIp('2001:db8::1:0'))?.toString()).toBe('2001:db8::ffff');
    expect(nextIp(parseIp('::'))?.toString()).toBe('::1');
  });

  it('stops at the ends of the family instead of wrapping', () => {
    expect(nextIp(parseIp('255.255.255.255'))).toBeUndefined();
    expect(prevIp(parseIp('0.0.0.0'))).toBeUndefined();
    expect(nextIp(parseIp('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBeUndefined();
    expect(prevIp(parseIp('::'))).toBeUndefined();
    expect(ipAdd(parseIp('0.0.0.0'), -1)).toBeUndefined();
    expect(ipAdd(parseIp('255.255.255.0'), 256n)).toBeUndefined();
  });

  it('adds and subtracts offsets', () => {
    expect(ipAdd(parseIp('10.0.0.0'), 256)?.toString()).toBe('10.0.1.0');
    expect(ipAdd(parseIp('10.0.1.0'), -1n)?.toString()).toBe('10.0.0.255');
    expect(ipAdd(parseIp('2001:db8::'), 1n << 64n)?.toString()).toBe('2001:db8:0:1::');
  });

  it('next(prev(x)) = x and prev(next(x)) = x wherever defined', () => {
    fc.assert(
      fc.property(anyIp, (ip) => {
        const previous = prevIp(ip);
        if (previous) expect(nextIp(previous)?.equals(ip)).toBe(true);
        const next = nextIp(ip);
        if (next) expect(prevIp(next)?.equals(ip)).toBe(true);
        if (next) expect(ipCompare(ip, next)).toBeLessThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('ipAdd(x, a) then ipAdd(_, b) = ipAdd(x, a + b) within the family', () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (ip, a, b) => {
        const stepwise = ipAdd(ip, a);
        const direct = ipAdd(ip, a + b);
        if (stepwise && direct) expect(ipAdd(stepwise, b)?.equals(direct)).toBe(true);
      }),
    );
  });

  it('orders IPv4 before IPv6, then by value; a total order', () => {
    expect(ipCompare(parseIp('255.255.255.255'), parseIp('::'))).toBeLessThan(0);
    expect(ipCompare(parseIp('10.0.0.2'), parseIp('10.0.0.10'))).toBeLessThan(0);
    expect(ipCompare(parseIp('10.0.0.2'), parseIp('10.0.0.2'))).toBe(0);
    fc.assert(
      fc.property(anyIp, anyIp, (a, b) => {
        expect(Math.sign(ipCompare(a, b)) + Math.sign(ipCompare(b, a))).toBe(0);
        expect(ipCompare(a, b) === 0).toBe(a.equals(b));
      }),
    );
    const sorted = ['10.0.0.10', '::1', '10.0.0.2', '2001:db8::', '1.1.1.1'].map(parseIp).sort(ipCompare).map(String);
    expect(sorted).toEqual(['1.1.1.1', '10.0.0.2', '10.0.0.10', '::1', '2001:db8::']);
  });
});
