// SPDX-License-Identifier: Apache-2.0
import { IpError, quote } from './errors.ts';
import { formatIpv4, formatIpv6 } from './format.ts';

/** An address family: 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6;

const MAX_V4 = 0xffffffffn;
const MAX_V6 = (1n << 128n) - 1n;
const MAPPED_PREFIX = 0xffffn; // the upper 96 bits of ::ffff:0:0/96

/** The largest value of a family: all ones over its 32 or 128 bits. */
export function maxValue(family: IpFamily): bigint {
  return family === 4 ? MAX_V4 : MAX_V6;
}

/**
 * One IPv4 or IPv6 address: an immutable family and unsigned value. All math is on the bigint
 * `value`, so stepping through a /16 never turns an address into text and back.
 *
 * `toString()` prints what Go's `net.IP.String()` prints (`10.1.2.3`, `2001:db8::5`), which is
 * what CNI results carry.
 *
 * @example
 * ```ts
 * const ip = parseIp('10.1.2.255');
 * nextIp(ip)?.toString(); // '10.1.3.0'
 * ```
 */
export class IpAddress {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits. */
  readonly value: bigint;
  #text: string | undefined;

  /** @throws IpError when `value` does not fit the family. */
  constructor(family: IpFamily, value: bigint) {
    if (family !== 4 && family !== 6) throw new IpError(`invalid address family ${String(family)}, expected 4 or 6`);
    if (value < 0n || value > (family === 4 ? MAX_V4 : MAX_V6)) {
      throw new IpError(`value ${value} out of range for an IPv${family} address`);
    }
    this.family = family;
    this.value = value;
  }

  /** Number of bits of the family: 32 or 128. */
  get bits(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** The address in network byte order: 4 bytes for IPv4, 16 for IPv6. */
  toBytes(): Uint8Array {
    const length = this.family === 4 ? 4 : 16;
    const bytes = new Uint8Array(length);
    let rest = this.value;
    for (let index = length - 1; index >= 0; index--) {
      bytes[index] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return bytes;
  }

  /**
   * The address in network byte order. 16 bytes give an IPv6 address even when they are
   * IPv4-mapped: a caller that wants Go's `To4()` canonicalisation uses {@link parseIp} or
   * {@link IpAddress.unmap}.
   *
   * @throws IpError unless there are 4 or 16 bytes.
   */
  static fromBytes(bytes: ArrayLike<number>): IpAddress {
    if (bytes.length !== 4 && bytes.length !== 16) {
      throw new IpError(`invalid address length ${bytes.length}, expected 4 or 16 bytes`);
    }
    let value = 0n;
    for (let index = 0; index < bytes.length; index++) value = (value << 8n) | BigInt(bytes[index]! & 0xff);
    return new IpAddress(bytes.length === 4 ? 4 : 6, value);
  }

  /** True for an IPv6 address inside `::ffff:0:0/96`, which Go treats (and prints) as IPv4. */
  get isIpv4Mapped(): boolean {
    return this.family === 6 && this.value >> 32n === MAPPED_PREFIX;
  }

  /** The IPv4 address of an IPv4-mapped IPv6 address (Go's `To4()`); any other address unchanged. */
  unmap(): IpAddress {
    return this.isIpv4Mapped ? new IpAddress(4, this.value & MAX_V4) : this;
  }

  /** Same family and value. */
  equals(other: IpAddress): boolean {
    return this.family === other.family && this.value === other.value;
  }

  /** `0.0.0.0` or `::` (and `::ffff:0.0.0.0`, which Go takes for `0.0.0.0`), as Go's `IsUnspecified`. */
  get isUnspecified(): boolean {
    return this.value === 0n || this.#v4View() === 0;
  }

  /** `127.0.0.0/8` or `::1`, as Go's `IsLoopback`. */
  get isLoopback(): boolean {
    const v4 = this.#v4View();
    return v4 === undefined ? this.value === 1n : v4 >>> 24 === 127;
  }

  /** `224.0.0.0/4` or `ff00::/8`, as Go's `IsMulticast`. */
  get isMulticast(): boolean {
    const v4 = this.#v4View();
    return v4 === undefined ? this.value >> 120n === 0xffn : v4 >>> 28 === 0xe;
  }

  /** `169.254.0.0/16` or `fe80::/10`, as Go's `IsLinkLocalUnicast`. */
  get isLinkLocalUnicast(): boolean {
    const v4 = this.#v4View();
    return v4 === undefined ? this.value >> 118n === 0x3fan : v4 >>> 16 === 0xa9fe;
  }

  /**
   * As Go's `IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or the IPv4
   * limited broadcast. Private ranges (10/8, fc00::/7) count as global, as in Go.
   */
  get isGlobalUnicast(): boolean {
    if (this.#v4View() === 0xffffffff) return false;
    return !this.isUnspecified && !this.isLoopback && !this.isMulticast && !this.isLinkLocalUnicast;
  }

  /** Go's text form: dotted IPv4, RFC 5952 IPv6, IPv4-mapped IPv6 as dotted IPv4. */
  toString(): string {
    this.#text ??= this.family === 4 ? formatIpv4(Number(this.value)) : formatIpv6(this.value);
    return this.#text;
  }

  /** The text form, so that results and configs serialise addresses as Go does. */
  toJSON(): string {
    return this.toString();
  }

  // Go classifies an IPv4-mapped address by IPv4 rules, since To4() succeeds on it.
  #v4View(): number | undefined {
    if (this.family === 4) return Number(this.value);
    return this.value >> 32n === MAPPED_PREFIX ? Number(this.value & MAX_V4) : undefined;
  }
}

/**
 * Parse address text of either family, without the family mapping of {@link parseIp}: the
 * family is the text's (IPv6 when it has a colon). Go's rules: no zone, no leading zeros in
 * dotted quads, at most four hex digits a group, no surrounding space.
 *
 * @internal
 */
export function parseAddressText(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIpv6Text(text);
    return value === undefined ? undefined : new IpAddress(6, value);
  }
  const value = parseIpv4Text(text, 0, text.length);
  return value === undefined ? undefined : new IpAddress(4, BigInt(value));
}

// The parsers are ours, not ip-address's: that module builds some thirty IPv6 subnets when it
// loads, 3 to 7 ms of every plugin's start. Tests check ours against node:net and ip-address.

/** A dotted quad in `text[start, end)`, Go's rules (no leading zeros, 0-255); undefined if not one. */
function parseIpv4Text(text: string, start: number, end: number): number | undefined {
  let value = 0;
  let i = start;
  for (let field = 0; field < 4; field++) {
    if (field > 0) {
      if (i >= end || text.charCodeAt(i) !== 0x2e) return undefined;
      i++;
    }
    const first = i;
    let n = 0;
    while (i < end) {
      const digit = text.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
      i++;
      if (i - first > 3) return undefined;
    }
    if (i === first || (i - first > 1 && text.charCodeAt(first) === 0x30) || n > 255) return undefined;
    value = value * 256 + n;
  }
  return i === end ? value : undefined;
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/**
 * IPv6 text as Go's parser reads it: groups of one to four hex digits, one `::` standing for at
 * least one zero group, an optional dotted quad as the last 32 bits, no zone.
 */
function parseIpv6Text(text: string): bigint | undefined {
  const groups: number[] = [];
  let ellipsis = -1;
  let i = 0;
  const end = text.length;
  if (text.startsWith('::')) {
    ellipsis = 0;
    i = 2;
  }
  while (i < end) {
    const first = i;
    let n = 0;
    while (i < end) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0) break;
      n = n * 16 + digit;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 0x2e) {
      // An embedded IPv4 address: the last 32 bits, right after six groups or the ellipsis.
      if ((ellipsis < 0 && groups.length !== 6) || groups.length > 6) return undefined;
      const v4 = parseIpv4Text(text, first, end);
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      i = end;
      break;
    }
    if (i === first || i - first > 4) return undefined;
    groups.push(n);
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a || groups.length === 8) return undefined;
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (ellipsis >= 0) return undefined;
      ellipsis = groups.length;
      i++;
    } else if (i === end) {
      return undefined;
    }
  }
  if (ellipsis < 0) {
    if (groups.length !== 8) return undefined;
  } else {
    if (groups.length > 7) return undefined;
    groups.splice(ellipsis, 0, ...new Array<number>(8 - groups.length).fill(0));
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/**
 * Parse an IPv4 or IPv6 address as Go's `net.ParseIP` followed by the `To4()` every CNI plugin
 * applies: an IPv4-mapped IPv6 text (`::ffff:10.0.0.1`) gives the IPv4 address. No prefix, no zone.
 *
 * @throws IpError `invalid IP address: "<text>"`.
 */
export function parseIp(text: string): IpAddress {
  const address = tryParseIp(text);
  if (address === undefined) throw new IpError(`invalid IP address: ${quote(text)}`, { input: text });
  return address;
}

/** {@link parseIp} that returns undefined instead of throwing, like Go's `net.ParseIP` returns nil. */
export function tryParseIp(text: string): IpAddress | undefined {
  return parseAddressText(text)?.unmap();
}

/**
 * True when `value` is an IPv4 address, or text that parses as one. As in Go (`To4() != nil`),
 * an IPv4-mapped IPv6 address counts as IPv4.
 */
export function isIpv4(value: string | IpAddress): boolean {
  const address = typeof value === 'string' ? tryParseIp(value) : value.unmap();
  return address?.family === 4;
}

/** True when `value` is an IPv6 address (not IPv4-mapped), or text that parses as one. */
export function isIpv6(value: string | IpAddress): boolean {
  const address = typeof value === 'string' ? tryParseIp(value) : value.unmap();
  return address?.family === 6;
}

/**
 * Order addresses: IPv4 before IPv6, then by value. Returns a negative number, zero or a
 * positive number, so it sorts directly: `addresses.sort(ipCompare)`. (Go's `ip.Cmp` answers
 * -2 across families; callers that care compare `family` first.)
 */
export function ipCompare(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** The address after `ip`, or undefined after the last address of its family. */
export function nextIp(ip: IpAddress): IpAddress | undefined {
  return ip.value === maxValue(ip.family) ? undefined : new IpAddress(ip.family, ip.value + 1n);
}

/** The address before `ip`, or undefined before `0.0.0.0` / `::`. */
export function prevIp(ip: IpAddress): IpAddress | undefined {
  return ip.value === 0n ? undefined : new IpAddress(ip.family, ip.value - 1n);
}

/** `ip` moved by `delta` addresses (negative moves back), or undefined when that leaves the family. */
export function ipAdd(ip: IpAddress, delta: bigint | number): IpAddress | undefined {
  const value = ip.value + BigInt(delta);
  return value < 0n || value > maxValue(ip.family) ? undefined : new IpAddress(ip.family, value);
}
