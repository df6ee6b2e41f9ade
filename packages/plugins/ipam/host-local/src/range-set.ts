// SPDX-License-Identifier: Apache-2.0
import { Cidr, IpAddress, tryParseCidr, tryParseIp } from '@cni/ip';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';

/**
 * One range of a range set, canonicalised as upstream's `Range.Canonicalize` leaves it: every
 * bound filled in, IPv4-mapped text turned into IPv4.
 */
export interface AddressRange {
  /** The subnet, its network address (no host bits). */
  readonly subnet: Cidr;
  /** First address handed out, inclusive. */
  readonly start: IpAddress;
  /** Last address handed out, inclusive. */
  readonly end: IpAddress;
  /** The gateway, never handed out; subnet + 1 unless configured. */
  readonly gateway: IpAddress;
}

/** A pool of ranges of one family: host-local hands out one address per range set. */
export type RangeSet = readonly AddressRange[];

/** A range as written in the configuration (`ranges`, the legacy top-level keys, `ipRanges`). */
export interface RangeConfig {
  subnet?: unknown;
  rangeStart?: unknown;
  rangeEnd?: unknown;
  gateway?: unknown;
}

/** A plain error of host-local: upstream returns them unwrapped, which skel reports as code 999. */
export function hostLocalError(message: string): CniError {
  return new CniError(CNI_ERROR_CODES.INTERNAL, message);
}

function parseAddress(value: unknown): IpAddress {
  // Go's json decoding of a net.IP; the text of its error.
  const ip = typeof value === 'string' ? tryParseIp(value) : undefined;
  if (ip === undefined) throw hostLocalError(`invalid IP address: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return ip;
}

function optionalAddress(value: unknown): IpAddress | undefined {
  return value === undefined || value === null || value === '' ? undefined : parseAddress(value);
}

function parseSubnet(value: unknown): Cidr {
  const cidr = typeof value === 'string' ? tryParseCidr(value) : undefined;
  if (cidr === undefined) throw hostLocalError(`invalid CIDR address: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  // IPv4-mapped subnets are IPv4 to Go once canonicalised.
  if (cidr.address.isIpv4Mapped && cidr.prefix >= 96) return new Cidr(cidr.address.unmap(), cidr.prefix - 96);
  return cidr;
}

function inRange(ip: IpAddress, subnet: Cidr, start?: IpAddress, end?: IpAddress): boolean {
  if (!subnet.contains(ip)) return false;
  if (start !== undefined && ip.value < start.value) return false;
  if (end !== undefined && ip.value > end.value) return false;
  return true;
}

/** Fill in and check one range, with upstream's error texts. */
export function canonicalizeRange(config: RangeConfig): AddressRange {
  const subnet = parseSubnet(config.subnet);
  if (subnet.prefix > subnet.bits - 2) throw hostLocalError(`Network ${subnet.masked().toString()} too small to allocate from`);
  if (!subnet.isNetwork) {
    throw hostLocalError(
      `Network has host bits set. For a subnet mask of length ${subnet.prefix} the network address is ${subnet.network.toString()}`,
    );
  }
  const next = new IpAddress(subnet.family, subnet.network.value + 1n);
  const gateway = optionalAddress(config.gateway) ?? next;
  let start = optionalAddress(config.rangeStart);
  if (start !== undefined) {
    if (!inRange(start, subnet)) throw hostLocalError(`RangeStart ${start.toString()} not in network ${subnet.toString()}`);
  } else {
    start = next;
  }
  let end = optionalAddress(config.rangeEnd);
  if (end !== undefined) {
    if (!inRange(end, subnet, start)) throw hostLocalError(`RangeEnd ${end.toString()} not in network ${subnet.toString()}`);
  } else {
    const last = subnet.last();
    end = subnet.family === 4 ? new IpAddress(4, last.value - 1n) : last;
  }
  return { subnet, start, end, gateway };
}

/** True when `ip` lies between the range's bounds (the subnet's family). */
export function rangeContains(range: AddressRange, ip: IpAddress): boolean {
  return inRange(ip, range.subnet, range.start, range.end);
}

function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  if (a.start.family !== b.start.family) return false;
  return rangeContains(a, b.start) || rangeContains(a, b.end) || rangeContains(b, a.start) || rangeContains(b, a.end);
}

/** `start-end`, as upstream prints a range. */
export function rangeToString(range: AddressRange): string {
  return `${range.start.toString()}-${range.end.toString()}`;
}

/** Upstream's `RangeSet.String()`: its ranges joined by commas. */
export function rangeSetToString(set: RangeSet): string {
  return set.map(rangeToString).join(',');
}

/** The range of the set holding `ip`, or undefined. */
export function rangeFor(set: RangeSet, ip: IpAddress): AddressRange | undefined {
  return set.find((range) => rangeContains(range, ip));
}

/** True when some range of one set overlaps some range of the other. */
export function rangeSetsOverlap(a: RangeSet, b: RangeSet): boolean {
  return a.some((x) => b.some((y) => rangesOverlap(x, y)));
}

/** Canonicalise a range set: at least one range, one family, no overlap inside. */
export function canonicalizeRangeSet(configs: readonly RangeConfig[]): RangeSet {
  if (configs.length === 0) throw hostLocalError('empty range set');
  const set: AddressRange[] = [];
  for (const config of configs) {
    const range = canonicalizeRange(config);
    if (set.length > 0 && set[0]!.start.family !== range.start.family) throw hostLocalError('mixed address families');
    set.push(range);
  }
  for (let i = 0; i < set.length - 1; i++) {
    for (let j = i + 1; j < set.length; j++) {
      if (rangesOverlap(set[i]!, set[j]!)) {
        throw hostLocalError(`subnets ${rangeToString(set[i]!)} and ${rangeToString(set[j]!)} overlap`);
      }
    }
  }
  return set;
}

/**
 * How many addresses the set can hand out: every address of its ranges but the gateways
 * inside them.
 */
export function rangeSetCapacity(set: RangeSet): bigint {
  let total = 0n;
  for (const range of set) {
    total += range.end.value - range.start.value + 1n;
    if (rangeContains(range, range.gateway)) total -= 1n;
  }
  return total;
}

/**
 * Upstream's allocation order: the address after `last` (when the set holds it; otherwise the
 * first range's start), on to the end of its range, then the next range's start, wrapping
 * round the set until back at the first address yielded; gateways skipped.
 */
export function* allocationOrder(set: RangeSet, last: IpAddress | undefined): Generator<{ ip: IpAddress; range: AddressRange }> {
  let index = last === undefined ? -1 : set.findIndex((range) => rangeContains(range, last));
  let value: bigint;
  if (index < 0) {
    index = 0;
    value = set[0]!.start.value;
  } else {
    const range = set[index]!;
    if (last!.value === range.end.value) {
      index = (index + 1) % set.length;
      value = set[index]!.start.value;
    } else {
      value = last!.value + 1n;
    }
  }
  const firstIndex = index;
  const firstValue = value;
  for (;;) {
    const range = set[index]!;
    if (value !== range.gateway.value || range.gateway.family !== range.start.family) {
      yield { ip: new IpAddress(range.start.family, value), range };
    }
    if (value === range.end.value) {
      index = (index + 1) % set.length;
      value = set[index]!.start.value;
    } else {
      value += 1n;
    }
    if (index === firstIndex && value === firstValue) return;
  }
}
