// SPDX-License-Identifier: Apache-2.0
import { IpAddress, maxValue } from './address.ts';
import type { Cidr } from './cidr.ts';
import { IpError, quote } from './errors.ts';

/**
 * An inclusive range of addresses of one family, as host-local's `rangeStart`-`rangeEnd`.
 * Membership and stepping are bigint compares and additions; iteration builds one
 * {@link IpAddress} per step and never goes through text.
 *
 * @example
 * ```ts
 * const range = new IpRange(parseIp('10.0.0.2'), parseIp('10.0.0.4'));
 * [...range.cycle(parseIp('10.0.0.3'))].map(String); // ['10.0.0.4', '10.0.0.2', '10.0.0.3']
 * ```
 */
export class IpRange {
  /** The first address, inclusive. */
  readonly start: IpAddress;
  /** The last address, inclusive. */
  readonly end: IpAddress;

  /** @throws IpError when the ends are of different families or `start` is after `end`. */
  constructor(start: IpAddress, end: IpAddress) {
    if (start.family !== end.family) {
      throw new IpError(`invalid range ${quote(`${start.toString()}-${end.toString()}`)}: start and end of different families`);
    }
    if (start.value > end.value) {
      throw new IpError(`invalid range ${quote(`${start.toString()}-${end.toString()}`)}: start after end`);
    }
    this.start = start;
    this.end = end;
  }

  /** 4 or 6. */
  get family(): IpAddress['family'] {
    return this.start.family;
  }

  /** How many addresses the range holds, both ends included. */
  get size(): bigint {
    return this.end.value - this.start.value + 1n;
  }

  /** True when `ip` is of the range's family and between its ends, inclusive. */
  contains(ip: IpAddress): boolean {
    return ip.family === this.start.family && ip.value >= this.start.value && ip.value <= this.end.value;
  }

  /** True when the two ranges share an address. Symmetric; ranges of different families never overlap. */
  overlaps(other: IpRange): boolean {
    return other.family === this.family && other.start.value <= this.end.value && this.start.value <= other.end.value;
  }

  /**
   * The round-robin successor of `ip`: the next address, wrapping from the end back to the
   * start. An address outside the range gives the start, as host-local starts over when its
   * last reserved address no longer belongs to the range.
   */
  nextAfter(ip: IpAddress): IpAddress {
    if (!this.contains(ip) || ip.value === this.end.value) return this.start;
    return new IpAddress(ip.family, ip.value + 1n);
  }

  /** Every address from start to end. */
  *[Symbol.iterator](): IterableIterator<IpAddress> {
    const family = this.start.family;
    for (let value = this.start.value; value <= this.end.value; value++) yield new IpAddress(family, value);
  }

  /**
   * Every address once, round-robin: from the address after `after` (wrapping at the end)
   * around to `after` itself; from the start when `after` is undefined or outside the range.
   * This is host-local's allocation order after its last reserved address.
   */
  *cycle(after?: IpAddress): IterableIterator<IpAddress> {
    const family = this.start.family;
    const start = this.start.value;
    const end = this.end.value;
    const first = after === undefined ? start : this.nextAfter(after).value;
    let value = first;
    do {
      yield new IpAddress(family, value);
      value = value === end ? start : value + 1n;
    } while (value !== first);
  }

  /** Same ends. */
  equals(other: IpRange): boolean {
    return this.start.equals(other.start) && this.end.equals(other.end);
  }

  /** `start-end`, as upstream's `Range.String()`. */
  toString(): string {
    return `${this.start.toString()}-${this.end.toString()}`;
  }
}

/** True when `ip` is of the family of `start` and `end` and between them, inclusive. */
export function ipInRange(ip: IpAddress, start: IpAddress, end: IpAddress): boolean {
  return ip.family === start.family && ip.family === end.family && ip.value >= start.value && ip.value <= end.value;
}

/**
 * True when host-local can allocate from the prefix: at least four addresses, so IPv4 /30 and
 * IPv6 /126 or larger (upstream refuses a prefix longer than its bits minus 2).
 */
export function isAllocatable(cidr: Cidr): boolean {
  return cidr.prefix <= cidr.bits - 2;
}

/** Bounds of {@link allocatableRange}, as host-local's `rangeStart` and `rangeEnd`. */
export interface RangeBounds {
  /** First address to hand out, inclusive; defaults to the network address + 1. */
  start?: IpAddress | undefined;
  /** Last address to hand out, inclusive; defaults to the last address (IPv4: before the broadcast address). */
  end?: IpAddress | undefined;
}

/**
 * The addresses host-local hands out from a subnet: from the network address + 1 to the last
 * address, minus the broadcast address for IPv4 (`10.1.2.1`-`10.1.2.254` for `10.1.2.0/24`,
 * `2001:db8::1`-`2001:db8::ffff:ffff:ffff:ffff` for `2001:db8::/64`), or between the given
 * bounds, which must lie inside the subnet (as upstream, a bound may name the network or the
 * broadcast address). The default gateway, {@link defaultGateway}, is the default start; the
 * allocator skips it.
 *
 * @throws IpError `network "<cidr>" too small to allocate from` when {@link isAllocatable} is
 * false, `range start "<ip>" not in network "<cidr>"` (or end) for a bound outside the subnet,
 * and the errors of {@link IpRange} when the start comes after the end.
 */
export function allocatableRange(cidr: Cidr, bounds: RangeBounds = {}): IpRange {
  if (!isAllocatable(cidr)) throw new IpError(`network ${quote(cidr.toString())} too small to allocate from`);
  for (const [name, bound] of [['start', bounds.start], ['end', bounds.end]] as const) {
    if (bound !== undefined && !cidr.contains(bound)) {
      throw new IpError(`range ${name} ${quote(bound.toString())} not in network ${quote(cidr.toString())}`);
    }
  }
  const family = cidr.family;
  const last = cidr.network.value | (maxValue(family) >> BigInt(cidr.prefix));
  return new IpRange(
    bounds.start ?? new IpAddress(family, cidr.network.value + 1n),
    bounds.end ?? new IpAddress(family, family === 4 ? last - 1n : last),
  );
}

/**
 * The gateway a plugin assumes when IPAM gave none: the network address + 1 (`10.1.2.1` for
 * `10.1.2.3/24`), as host-local's default gateway and bridge's `calcGatewayIP`. Like upstream it
 * does not check that a /32 or /128 holds that address.
 *
 * @throws IpError for the last address of the family as a /32 or /128, which has no successor.
 */
export function defaultGateway(cidr: Cidr): IpAddress {
  const value = cidr.network.value + 1n;
  if (value > maxValue(cidr.family)) throw new IpError(`no gateway address after network ${quote(cidr.toString())}`);
  return new IpAddress(cidr.family, value);
}
