// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { ETH_P_IP } from './constants.ts';
import { SysError } from './errors.ts';
import { decodeSocketAddress, encodeSocketAddress } from './sockaddr.ts';

describe('socket addresses', () => {
  it('encodes sockaddr_in with the port in network order', () => {
    const bytes = encodeSocketAddress({ family: 'inet', address: '10.1.2.3', port: 68 });
    expect(bytes.toString('hex')).toBe('0200' + '0044' + '0a010203' + '0000000000000000');
    expect(decodeSocketAddress(bytes)).toEqual({ family: 'inet', address: '10.1.2.3', port: 68 });
  });

  it('encodes sockaddr_in6 with compressed and IPv4-tailed addresses', () => {
    const bytes = encodeSocketAddress({ family: 'inet6', address: 'fe80::1', port: 546, scopeId: 7 });
    expect(bytes.length).toBe(28);
    expect(bytes.subarray(8, 24).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(decodeSocketAddress(bytes)).toMatchObject({ family: 'inet6', address: 'fe80:0:0:0:0:0:0:1', port: 546, scopeId: 7 });
    const mapped = encodeSocketAddress({ family: 'inet6', address: '::ffff:192.0.2.1', port: 0 });
    expect(mapped.subarray(8, 24).toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(encodeSocketAddress({ family: 'inet6', address: '::', port: 0 }).subarray(8, 24).every((byte) => byte === 0)).toBe(true);
  });

  it('encodes sockaddr_ll with the protocol in network order and the hardware address', () => {
    const bytes = encodeSocketAddress({ family: 'packet', protocol: ETH_P_IP, ifindex: 3, hardwareAddress: 'ff:ff:ff:ff:ff:ff' });
    expect(bytes.length).toBe(20);
    expect(bytes.readUInt16BE(2)).toBe(0x0800);
    expect(bytes.readInt32LE(4)).toBe(3);
    expect(bytes[11]).toBe(6);
    expect(decodeSocketAddress(bytes)).toMatchObject({ family: 'packet', protocol: ETH_P_IP, ifindex: 3, hardwareAddress: 'ff:ff:ff:ff:ff:ff' });
  });

  it('rejects bad addresses and ports with typed errors', () => {
    expect(() => encodeSocketAddress({ family: 'inet', address: '300.1.1.1', port: 1 })).toThrow(SysError);
    expect(() => encodeSocketAddress({ family: 'inet', address: '1.1.1.1', port: 70000 })).toThrow(/invalid port/);
    expect(() => encodeSocketAddress({ family: 'inet6', address: 'fe80:::1', port: 1 })).toThrow(/invalid IPv6 address/);
    expect(() => encodeSocketAddress({ family: 'packet', protocol: 0, ifindex: 1, hardwareAddress: 'zz:00' })).toThrow(/hardware address/);
  });

  it('gives undefined for a family it does not speak', () => {
    expect(decodeSocketAddress(Buffer.from([16, 0, 0, 0]))).toBeUndefined();
  });
});

describe('IPv6 text', () => {
  it.each(['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':::', 'g::1', '1:2:3:4:5:6:7::8', '::1.2.3.256'])('rejects %s', (address) => {
    expect(() => encodeSocketAddress({ family: 'inet6', address, port: 0 })).toThrow(/invalid IPv6 address/);
  });
  it.each([
    ['::1', '00000000000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
  ])('reads %s', (address, hex) => {
    expect(encodeSocketAddress({ family: 'inet6', address, port: 0 }).subarray(8, 24).toString('hex')).toBe(hex);
  });
});
