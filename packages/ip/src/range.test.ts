// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv4Value } from './__tests__/arbitraries.ts';
import {
  IpAddress,
  IpError,
  IpRange,
  allocatableRange,
  defaultGateway,
  ipInRange,
  isAllocatable,
  nextIp,
  parseCidr,
  parseIp,
} from './index.ts';

const range = (start: string, end: string) => new IpRange(parseIp(start), parseIp(end));

/** A small IPv4 range with its ends in 10.0.0.0/24, so overlaps and cycles are frequent and cheap to check. */
const smallRange = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map(([a, b]) => new IpRange(new IpAddress(4, 0x0a000000n + BigInt(Math.min(a, b))), new IpAddress(4, 0x0a000000n + BigInt(Math.max(a, b)))));

describe('IpRange', () => {
  it('refuses ends of different families or in the wrong order', () => {
    expect(() => range('10.0.0.1', '::1')).toThrowError('invalid range "10.0.0.1-::1": start and end of different families');
    expect(() => range('10.0.0.9', '10.0.0.1')).toThrowError('invalid range "10.0.0.9-10.0.0.1": start after end');
    expect(() => range('10.0.0.9', '10.0.0.1')).toThrow(IpError);
  });

  it('holds both ends', () => {
    const r = range('10.0.0.2', '10.0.0.4');
    expect(r.size).toBe(3n);
    expect(r.family).toBe(4);
    expect(r.contains(parseIp('10.0.0.2'))).toBe(true);
    expect(r.contains(parseIp('10.0.0.4'))).toBe(true);
    expect(r.contains(parseIp('10.0.0.5'))).toBe(false);
    expect(r.contains(parseIp('10.0.0.1'))).toBe(false);
    expect(r.contains(parseIp('::a00:3'))).toBe(false);
    expect(r.toString()).toBe('10.0.0.2-10.0.0.4');
    expect([...r].map(String)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(range('2001:db8::', '2001:db8::').size).toBe(1n);
  });

  it('steps round-robin, wrapping at the end', () => {
    const r = range('10.0.0.2', '10.0.0.4');
    expect(r.nextAfter(parseIp('10.0.0.2')).toString()).toBe('10.0.0.3');
    expect(r.nextAfter(parseIp('10.0.0.4')).toString()).toBe('10.0.0.2');
    expect(r.nextAfter(parseIp('10.0.0.9')).toString()).toBe('10.0.0.2');
    expect(r.nextAfter(parseIp('::1')).toString()).toBe('10.0.0.2');
    expect([...r.cycle()].map(String)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect([...r.cycle(parseIp('10.0.0.3'))].map(String)).toEqual(['10.0.0.4', '10.0.0.2', '10.0.0.3']);
    expect([...r.cycle(parseIp('10.0.0.4'))].map(String)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect([...r.cycle(parseIp('192.168.0.1'))].map(String)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect([...range('10.0.0.7', '10.0.0.7').cycle(parseIp('10.0.0.7'))].map(String)).toEqual(['10.0.0.7']);
  });

  it('cycles through every address exactly once from any point', () => {
    fc.assert(
      fc.property(smallRange, fc.integer({ min: 0, max: 300 }), (r, offset) => {
        const after = new IpAddress(4, 0x0a000000n + BigInt(offset));
        const seen = [...r.cycle(after)];
        expect(BigInt(seen.length)).toBe(r.size);
        expect(new Set(seen.map((ip) => ip.value)).size).toBe(seen.length);
        expect(seen.every((ip) => r.contains(ip))).toBe(true);
        expect(seen[0]!.equals(r.nextAfter(after))).toBe(true);
      }),
    );
  });

  it('overlaps symmetrically, exactly when the ranges share an address', () => {
    expect(range('10.0.0.1', '10.0.0.5').overlaps(range('10.0.0.5', '10.0.0.9'))).toBe(true);
    expect(range('10.0.0.1', '10.0.0.4').overlaps(range('10.0.0.5', '10.0.0.9'))).toBe(false);
    expect(range('0.0.0.0', '255.255.255.255').overlaps(range('::', '::ffff'))).toBe(false);
    fc.assert(
      fc.property(smallRange, smallRange, (a, b) => {
        expect(a.overlaps(b)).toBe(b.overlaps(a));
        expect(a.overlaps(b)).toBe([...a].some((ip) => b.contains(ip)));
      }),
    );
  });

  it('compares by ends', () => {
    expect(range('10.0.0.1', '10.0.0.5').equals(range('10.0.0.1', '10.0.0.5'))).toBe(true);
    expect(range('10.0.0.1', '10.0.0.5').equals(range('10.0.0.1', '10.0.0.6'))).toBe(false);
  });
});

describe('ipInRange', () => {
  it('is inclusive and family-aware', () => {
    expect(ipInRange(parseIp('10.0.0.1'), parseIp('10.0.0.1'), parseIp('10.0.0.9'))).toBe(true);
    expect(ipInRange(parseIp('10.0.0.9'), parseIp('10.0.0.1'), parseIp('10.0.0.9'))).toBe(true);
    expect(ipInRange(parseIp('10.0.0.10'), parseIp('10.0.0.1'), parseIp('10.0.0.9'))).toBe(false);
    expect(ipInRange(parseIp('::a00:5'), parseIp('10.0.0.1'), parseIp('10.0.0.9'))).toBe(false);
    fc.assert(
      fc.property(ipv4Value, ipv4Value, ipv4Value, (a, b, x) => {
        const [low, high] = a < b ? [a, b] : [b, a];
        const ip = new IpAddress(4, x);
        expect(ipInRange(ip, new IpAddress(4, low), new IpAddress(4, high))).toBe(x >= low && x <= high);
      }),
    );
  });
});

describe('host-local helpers', () => {
  it('allocates from /30 and /126 and larger, as upstream', () => {
    expect(isAllocatable(parseCidr('10.0.0.0/30'))).toBe(true);
    expect(isAllocatable(parseCidr('10.0.0.0/31'))).toBe(false);
    expect(isAllocatable(parseCidr('10.0.0.0/32'))).toBe(false);
    expect(isAllocatable(parseCidr('2001:db8::/126'))).toBe(true);
    expect(isAllocatable(parseCidr('2001:db8::/127'))).toBe(false);
    expect(() => allocatableRange(parseCidr('10.0.0.0/31'))).toThrowError('network "10.0.0.0/31" too small to allocate from');
    expect(() => allocatableRange(parseCidr('2001:db8::/128'))).toThrowError('network "2001:db8::/128" too small to allocate from');
  });

  it('skips the network address, and the broadcast address for IPv4', () => {
    expect(allocatableRange(parseCidr('10.1.2.0/24')).toString()).toBe('10.1.2.1-10.1.2.254');
    expect(allocatableRange(parseCidr('10.1.2.9/24')).toString()).toBe('10.1.2.1-10.1.2.254');
    expect(allocatableRange(parseCidr('10.0.0.0/30')).toString()).toBe('10.0.0.1-10.0.0.2');
    expect(allocatableRange(parseCidr('10.0.0.0/8')).size).toBe((1n << 24n) - 2n);
    expect(allocatableRange(parseCidr('2001:db8::/64')).toString()).toBe('2001:db8::1-2001:db8::ffff:ffff:ffff:ffff');
    expect(allocatableRange(parseCidr('2001:db8::/126')).toString()).toBe('2001:db8::1-2001:db8::3');
  });

  it('takes rangeStart and rangeEnd inside the subnet', () => {
    const subnet = parseCidr('10.1.2.0/24');
    expect(allocatableRange(subnet, { start: parseIp('10.1.2.100') }).toString()).toBe('10.1.2.100-10.1.2.254');
    expect(allocatableRange(subnet, { end: parseIp('10.1.2.20') }).toString()).toBe('10.1.2.1-10.1.2.20');
    expect(allocatableRange(subnet, { start: parseIp('10.1.2.0'), end: parseIp('10.1.2.255') }).size).toBe(256n);
    expect(() => allocatableRange(subnet, { start: parseIp('10.1.3.1') })).toThrowError(
      'range start "10.1.3.1" not in network "10.1.2.0/24"',
    );
    expect(() => allocatableRange(subnet, { end: parseIp('2001:db8::1') })).toThrowError(
      'range end "2001:db8::1" not in network "10.1.2.0/24"',
    );
    expect(() => allocatableRange(subnet, { start: parseIp('10.1.2.9'), end: parseIp('10.1.2.8') })).toThrowError(
      'invalid range "10.1.2.9-10.1.2.8": start after end',
    );
  });

  it('puts the default gateway at network + 1', () => {
    expect(defaultGateway(parseCidr('10.1.2.3/24')).toString()).toBe('10.1.2.1');
    expect(defaultGateway(parseCidr('2001:db8::5/64')).toString()).toBe('2001:db8::1');
    expect(defaultGateway(parseCidr('10.0.0.5/32')).toString()).toBe('10.0.0.6');
    expect(() => defaultGateway(parseCidr('255.255.255.255/32'))).toThrow(IpError);
  });

  it('walks a whole /16 in O(1) steps (host-local allocates each address of one)', () => {
    const subnet = parseCidr('10.20.0.0/16');
    const r = allocatableRange(subnet);
    const started = performance.now();
    let count = 0;
    let last: IpAddress | undefined;
    for (let ip: IpAddress | undefined = r.start; ip && r.contains(ip); ip = nextIp(ip)) {
      if (!subnet.contains(ip)) throw new Error(`${ip.toString()} left ${subnet.toString()}`);
      count++;
      last = ip;
    }
    const elapsed = performance.now() - started;
    expect(count).toBe(65534);
    expect(last?.toString()).toBe('10.20.255.254');
    // Generous: about 10 ms here; string round trips would take several times that.
    expect(elapsed).toBeLessThan(500);
  });
});
