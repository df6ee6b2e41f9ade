// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { DhcpPacketError } from './errors.ts';
import {
  DHCP_MESSAGE_TYPE,
  DHCP_OPTION,
  decodeClasslessRoutes,
  decodeIpList,
  decodeStaticRoutes,
  defaultClientId,
  encodeClasslessRoutes,
  maskToPrefix,
  optionCode,
} from './options.ts';
import { FLAG_BROADCAST, MAGIC_COOKIE, decodeMessage, encodeMessage, messageType, type DhcpMessage } from './packet.ts';
import { buildResult } from './result.ts';
import { leaseOf, retryDelay } from './client.ts';

function reply(options: [number, number[] | Buffer][]): DhcpMessage {
  return {
    op: 2,
    xid: 0x01020304,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '10.77.1.23',
    siaddr: '10.77.1.1',
    giaddr: '0.0.0.0',
    chaddr: '02:00:00:00:00:01',
    options: new Map(options.map(([code, value]) => [code, Buffer.from(value)])),
  };
}

describe('DHCP message codec', () => {
  it('encodes the fixed header, the cookie and the options, padded to 300 bytes', () => {
    const bytes = encodeMessage({
      ...reply([[DHCP_OPTION.MESSAGE_TYPE, [DHCP_MESSAGE_TYPE.DISCOVER]]]),
      op: 1,
      flags: FLAG_BROADCAST,
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
    });
    expect(bytes.length).toBe(300);
    expect([...bytes.subarray(0, 4)]).toEqual([1, 1, 6, 0]);
    expect(bytes.readUInt32BE(4)).toBe(0x01020304);
    expect(bytes.readUInt16BE(10)).toBe(0x8000);
    expect(bytes.subarray(28, 34).toString('hex')).toBe('020000000001');
    expect(bytes.readUInt32BE(236)).toBe(MAGIC_COOKIE);
    expect([...bytes.subarray(240, 244)]).toEqual([53, 1, 1, 255]);
  });

  it('round-trips a message and reads its type', () => {
    const message = reply([
      [DHCP_OPTION.MESSAGE_TYPE, [DHCP_MESSAGE_TYPE.ACK]],
      [DHCP_OPTION.SUBNET_MASK, [255, 255, 255, 0]],
      [DHCP_OPTION.ROUTER, [10, 77, 1, 1]],
    ]);
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded).toEqual(message);
    expect(messageType(decoded)).toBe(DHCP_MESSAGE_TYPE.ACK);
  });

  it('splits options over 255 bytes and concatenates repeated ones (RFC 3396)', () => {
    const long = Buffer.alloc(300, 7);
    const bytes = encodeMessage(reply([[DHCP_OPTION.CLASSLESS_ROUTES, long]]));
    expect(bytes[240]).toBe(121);
    expect(bytes[241]).toBe(255);
    expect(decodeMessage(bytes).options.get(121)).toEqual(long);
  });

  it('reads options overloaded into the file and sname fields', () => {
    const bytes = encodeMessage(reply([[DHCP_OPTION.OVERLOAD, [3]]]));
    bytes.set([DHCP_OPTION.HOST_NAME, 3, 0x61, 0x62, 0x63, 255], 108);
    bytes.set([DHCP_OPTION.DOMAIN_NAME, 1, 0x78, 255], 44);
    const decoded = decodeMessage(bytes);
    expect(decoded.options.get(DHCP_OPTION.HOST_NAME)?.toString()).toBe('abc');
    expect(decoded.options.get(DHCP_OPTION.DOMAIN_NAME)?.toString()).toBe('x');
  });

  it('refuses short messages, a missing cookie and options running past the end', () => {
    expect(() => decodeMessage(Buffer.alloc(100))).toThrow(DhcpPacketError);
    expect(() => decodeMessage(Buffer.alloc(300))).toThrow(/no magic cookie/);
    const bytes = encodeMessage(reply([]));
    bytes.set([12, 200], 240);
    expect(() => decodeMessage(bytes.subarray(0, 250))).toThrow(/runs past the end/);
    expect(() => encodeMessage({ ...reply([]), chaddr: 'zz' })).toThrow(/invalid hardware address/);
    expect(() => encodeMessage({ ...reply([]), ciaddr: '1.2.3' })).toThrow(/invalid IPv4 address/);
  });
});

describe('DHCP options', () => {
  it('names options as upstream does, and takes decimal codes', () => {
    expect(optionCode('routers')).toBe(3);
    expect(optionCode('dhcp-client-identifier')).toBe(61);
    expect(optionCode('host-name')).toBe(12);
    expect(optionCode('121')).toBe(121);
    expect(optionCode('0')).toBeUndefined();
    expect(optionCode('255')).toBeUndefined();
    expect(optionCode('bogus')).toBeUndefined();
  });

  it('decodes classless static routes (121), on-link routes included', () => {
    const routes = [
      { dst: '0.0.0.0/0', router: '10.77.1.1' },
      { dst: '192.168.0.0/16', router: '10.77.1.254' },
      { dst: '10.99.1.128/25', router: '0.0.0.0' },
      { dst: '172.16.5.4/32', router: '10.77.1.2' },
    ];
    const bytes = encodeClasslessRoutes(routes);
    expect([...bytes.subarray(0, 5)]).toEqual([0, 10, 77, 1, 1]);
    expect(decodeClasslessRoutes(bytes)).toEqual(routes);
    expect(() => decodeClasslessRoutes(Buffer.from([33, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/over 32/);
    expect(() => decodeClasslessRoutes(Buffer.from([24, 10, 1]))).toThrow(/past the end/);
  });

  it('decodes classful static routes (33) and address lists', () => {
    expect(decodeStaticRoutes(Buffer.from([10, 0, 0, 0, 10, 77, 1, 2, 192, 168, 3, 4, 10, 77, 1, 3]))).toEqual([
      { dst: '10.0.0.0/8', router: '10.77.1.2' },
      { dst: '192.168.3.4/32', router: '10.77.1.3' },
    ]);
    expect(decodeIpList(Buffer.from([8, 8, 8, 8, 1, 1, 1, 1]))).toEqual(['8.8.8.8', '1.1.1.1']);
    expect(() => decodeIpList(Buffer.from([1, 2, 3]))).toThrow(/multiple of 4/);
  });

  it('turns masks into prefixes, refusing non-contiguous ones', () => {
    expect(maskToPrefix(Buffer.from([255, 255, 255, 0]))).toBe(24);
    expect(maskToPrefix(Buffer.from([0, 0, 0, 0]))).toBe(0);
    expect(maskToPrefix(Buffer.from([255, 255, 255, 255]))).toBe(32);
    expect(maskToPrefix(Buffer.from([255, 0, 255, 0]))).toBeUndefined();
  });

  it('builds the default client identifier as upstream: type 0 then containerID/network/ifName', () => {
    const id = defaultClientId('c1', 'net', 'eth0');
    expect(id[0]).toBe(0);
    expect(id.subarray(1).toString()).toBe('c1/net/eth0');
    expect(defaultClientId('x'.repeat(400), 'n', 'e').length).toBe(255);
  });
});

describe('results and lease timers', () => {
  const base: [number, number[]][] = [
    [DHCP_OPTION.MESSAGE_TYPE, [DHCP_MESSAGE_TYPE.ACK]],
    [DHCP_OPTION.SUBNET_MASK, [255, 255, 255, 0]],
    [DHCP_OPTION.ROUTER, [10, 77, 1, 1, 10, 77, 1, 2]],
    [DHCP_OPTION.SERVER_ID, [10, 77, 1, 1]],
  ];

  it('gives address, first router as gateway and a default route; DNS and domain', () => {
    const result = buildResult(reply([...base, [DHCP_OPTION.DNS_SERVERS, [10, 77, 1, 53]], [DHCP_OPTION.DOMAIN_NAME, [...Buffer.from('pods.test')]]]));
    expect(result).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: '10.77.1.23/24', gateway: '10.77.1.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.77.1.1' }],
      dns: { nameservers: ['10.77.1.53'], domain: 'pods.test' },
    });
  });

  it('prefers option 121 over 33 and the router, with on-link routes of scope link and the priority', () => {
    const routes = encodeClasslessRoutes([
      { dst: '0.0.0.0/0', router: '10.77.1.254' },
      { dst: '10.88.0.0/16', router: '0.0.0.0' },
    ]);
    const result = buildResult(reply([...base, [DHCP_OPTION.STATIC_ROUTES, [10, 0, 0, 0, 10, 77, 1, 2]], [DHCP_OPTION.CLASSLESS_ROUTES, [...routes]]]), 100);
    expect(result.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.77.1.254', priority: 100 },
      { dst: '10.88.0.0/16', scope: 253, priority: 100 },
    ]);
  });

  it('uses option 33 plus the default route without 121', () => {
    const result = buildResult(reply([...base, [DHCP_OPTION.STATIC_ROUTES, [10, 0, 0, 0, 10, 77, 1, 2]]]));
    expect(result.routes).toEqual([
      { dst: '10.0.0.0/8', gw: '10.77.1.2' },
      { dst: '0.0.0.0/0', gw: '10.77.1.1' },
    ]);
  });

  it('refuses an ACK without a subnet mask', () => {
    expect(() => buildResult(reply([[DHCP_OPTION.MESSAGE_TYPE, [5]]]))).toThrow(/without a subnet mask/);
  });

  it('takes T1 and T2 from the ACK, else 50 % and 85 % of the lease time', () => {
    const explicit = leaseOf(reply([...base, [51, [0, 0, 0, 120]], [58, [0, 0, 0, 60]], [59, [0, 0, 0, 105]]]), 1000);
    expect(explicit).toMatchObject({ address: '10.77.1.23/24', serverId: '10.77.1.1', leaseTime: 120, t1: 60, t2: 105, boundAt: 1000 });
    expect(leaseOf(reply([...base, [51, [0, 0, 0, 200]]]), 0)).toMatchObject({ t1: 100, t2: 170 });
    expect(leaseOf(reply(base), 0)).toMatchObject({ leaseTime: 3600, t1: 1800, t2: 3060 });
  });

  it('retransmits four times quickly, then backs off doubling up to resendmax', () => {
    const delays = Array.from({ length: 9 }, (_, attempt) => retryDelay(attempt, 62_000, () => 0.5));
    expect(delays).toEqual([2000, 2000, 2000, 2000, 4000, 8000, 16_000, 32_000, 62_000]);
    expect(retryDelay(0, 62_000, () => 0)).toBe(1000);
    expect(retryDelay(0, 62_000, () => 0.999)).toBeLessThanOrEqual(3000);
  });
});
