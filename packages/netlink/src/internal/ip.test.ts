// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { formatAddress, networkOf, parseAddress } from './ip.ts';

describe('parseAddress', () => {
  it.each([
    ['10.1.2.3', 4, '0a010203', 32],
    ['10.1.2.3/24', 4, '0a010203', 24],
    ['0.0.0.0/0', 4, '00000000', 0],
    ['fd00::1/64', 6, 'fd000000000000000000000000000001', 64],
    ['::', 6, '00000000000000000000000000000000', 128],
    ['::1', 6, '00000000000000000000000000000001', 128],
    ['1:2:3:4:5:6:7:8', 6, '00010002000300040005000600070008', 128],
    ['::ffff:10.1.2.3', 6, '00000000000000000000ffff0a010203', 128],
    ['::10.1.2.3', 6, '0000000000000000000000000a010203', 128],
    ['1:2:3:4:5:6:10.1.2.3', 6, '0001000200030004000500060a010203', 128],
    ['fe80::', 6, 'fe800000000000000000000000000000', 128],
  ])('parses %s', (text, family, hex, prefix) => {
    const parsed = parseAddress(text);
    expect(parsed?.family).toBe(family === 4 ? 2 : 10);
    expect(parsed?.bytes.toString('hex')).toBe(hex);
    expect(parsed?.prefix).toBe(prefix);
  });

  it.each(['', 'nonsense', '10.1.2', '10.1.2.256', '10.01.2.3', '10.1.2.3/33', '10.1.2.3/', '10.1.2.3/x', 'fd00::1/129', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0', '12345::', '::1.2.3', 'g::1'])(
    'refuses %j',
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );
});

describe('formatAddress', () => {
  it.each([
    ['0a010203', '10.1.2.3'],
    ['fd000000000000000000000000000001', 'fd00::1'],
    ['00000000000000000000000000000000', '::'],
    ['00010000000000010000000000000001', '1:0:0:1::1'],
    ['00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['20010db8000000010000000000000000', '2001:db8:0:1::'],
  ])('formats %s as %s', (hex, text) => {
    expect(formatAddress(Buffer.from(hex, 'hex'))).toBe(text);
  });

  it('round-trips through parseAddress', () => {
    for (const text of ['10.0.0.1', '2001:db8::1', '::ffff:a01:203', 'fe80::1:2']) {
      expect(formatAddress(parseAddress(text)!.bytes)).toBe(text);
    }
  });
});

describe('networkOf', () => {
  it('clears host bits', () => {
    expect(formatAddress(networkOf(parseAddress('10.1.2.3')!.bytes, 20))).toBe('10.1.0.0');
    expect(formatAddress(networkOf(parseAddress('fd00::1:2:3')!.bytes, 100))).toBe('fd00::1:0:0');
  });
});
