// SPDX-License-Identifier: Apache-2.0
// fast-check generators shared by the unit tests (not part of the package's API).
import fc from 'fast-check';
import { IpAddress, type IpFamily } from '../address.ts';
import { Cidr } from '../cidr.ts';

/** 16-bit groups biased towards zero, so that runs of `::` and single zero groups both appear. */
const group = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) });

/** Any IPv4 value, with the edges of the space weighted in. */
export const ipv4Value = fc.oneof(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.constantFrom(0n, 1n, 0xfffffffen, 0xffffffffn));

/** An IPv6 value built from groups, so that zero runs are common. */
export const ipv6Value = fc
  .array(group, { minLength: 8, maxLength: 8 })
  .map((groups) => groups.reduce((value, g) => (value << 16n) | BigInt(g), 0n));

/** An IPv6 value outside `::ffff:0:0/96` (which prints as IPv4). */
export const ipv6NotMapped = ipv6Value.filter((value) => value >> 32n !== 0xffffn);

export const ipv4 = ipv4Value.map((value) => new IpAddress(4, value));
export const ipv6 = ipv6NotMapped.map((value) => new IpAddress(6, value));
export const anyIp = fc.oneof(ipv4, ipv6);

/** A prefix of the given family, host bits random. */
export function cidrOf(family: IpFamily): fc.Arbitrary<Cidr> {
  const address = family === 4 ? ipv4 : ipv6;
  return fc.tuple(address, fc.integer({ min: 0, max: family === 4 ? 32 : 128 })).map(([ip, prefix]) => new Cidr(ip, prefix));
}

export const anyCidr = fc.oneof(cidrOf(4), cidrOf(6));

/** Groups of an IPv6 value, as an independent way to write it out. */
export function groupsOf(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, index) => Number((value >> BigInt(112 - 16 * index)) & 0xffffn));
}
