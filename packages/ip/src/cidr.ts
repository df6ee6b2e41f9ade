// SPDX-License-Identifier: Apache-2.0
import { IpAddress, maxValue, parseAddressText, tryParseIp, type IpFamily } from './address.ts';
import { IpError, quote } from './errors.ts';

// Masks by prefix length, filled on first use (no work at import time).
const masks4: bigint[] = [];
const masks6: bigint[] = [];

/** The mask of a prefix length as a value: `prefix` one bits followed by zeros. */
function maskValue(family: IpFamily, prefix: number): bigint {
  const table = family === 4 ? masks4 : masks6;
  let mask = table[prefix];
  if (mask === undefined) {
    const bits = family === 4 ? 32 : 128;
    mask = maxValue(family) ^ ((1n << BigInt(bits - prefix)) - 1n);
    table[prefix] = mask;
  }
  return mask;
}

function checkPrefix(family: IpFamily, prefix: number): void {
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new IpError(`invalid prefix length ${prefix} for IPv${family}, must be [0, ${bits}]`);
  }
}

/**
 * An address with a prefix length, as CNI configs and results write it: `10.1.2.3/24` keeps its
 * host bits in {@link Cidr.address} and in `toString()` (like upstream's `types.IPNet`), while
 * {@link Cidr.network} and {@link Cidr.masked} give `10.1.2.0` and `10.1.2.0/24`.
 *
 * @example
 * ```ts
 * const cidr = parseCidr('10.1.2.3/24');
 * cidr.contains(parseIp('10.1.2.200')); // true
 * cidr.masked().toString();              // '10.1.2.0/24'
 * cidr.broadcast()?.toString();          // '10.1.2.255'
 * ```
 */
export class Cidr {
  /** The address as written, host bits kept. */
  readonly address: IpAddress;
  /** The prefix length: 0 to 32 for IPv4, 0 to 128 for IPv6. */
  readonly prefix: number;
  /** The first address of the prefix: {@link Cidr.address} with its host bits cleared. */
  readonly network: IpAddress;
  readonly #mask: bigint;

  /** @throws IpError when `prefix` is not an integer within the family's bits. */
  constructor(address: IpAddress, prefix: number) {
    checkPrefix(address.family, prefix);
    this.address = address;
    this.prefix = prefix;
    this.#mask = maskValue(address.family, prefix);
    const network = address.value & this.#mask;
    this.network = network === address.value ? address : new IpAddress(address.family, network);
  }

  /** 4 or 6. */
  get family(): IpFamily {
    return this.address.family;
  }

  /** Number of bits of the family: 32 or 128. */
  get bits(): 32 | 128 {
    return this.address.bits;
  }

  /** The netmask as an address (`255.255.255.0` for a /24). */
  get mask(): IpAddress {
    return new IpAddress(this.family, this.#mask);
  }

  /** How many addresses the prefix holds, network and broadcast included (`256n` for a /24). */
  get size(): bigint {
    return 1n << BigInt(this.bits - this.prefix);
  }

  /** True when `ip` is of the same family and inside the prefix. O(1): one AND and a compare. */
  contains(ip: IpAddress): boolean {
    return ip.family === this.family && (ip.value & this.#mask) === this.network.value;
  }

  /** True when every address of `other` is inside this prefix. */
  containsCidr(other: Cidr): boolean {
    return other.prefix >= this.prefix && this.contains(other.network);
  }

  /** True when the two prefixes share an address: one contains the other's network. Symmetric. */
  overlaps(other: Cidr): boolean {
    if (other.family !== this.family) return false;
    const shorter = other.prefix < this.prefix ? other : this;
    return (this.network.value & shorter.#mask) === (other.network.value & shorter.#mask);
  }

  /** The first address of the prefix (its network address). */
  first(): IpAddress {
    return this.network;
  }

  /** The last address of the prefix (for IPv4, its broadcast address). */
  last(): IpAddress {
    return new IpAddress(this.family, this.network.value | (maxValue(this.family) ^ this.#mask));
  }

  /** The IPv4 broadcast address (the last address); undefined for IPv6, which has none. */
  broadcast(): IpAddress | undefined {
    return this.family === 4 ? this.last() : undefined;
  }

  /** The network as a prefix: `10.1.2.0/24` for `10.1.2.3/24` (Go's `ip.Network`). */
  masked(): Cidr {
    return this.network === this.address ? this : new Cidr(this.network, this.prefix);
  }

  /** True when the address has no host bits set, i.e. the text names a network. */
  get isNetwork(): boolean {
    return this.network === this.address;
  }

  /** Same address (host bits included) and prefix length. */
  equals(other: Cidr): boolean {
    return this.prefix === other.prefix && this.address.equals(other.address);
  }

  /** `address/prefix` as Go prints an `IPNet` built from it: `10.1.2.3/24`, `2001:db8::5/64`. */
  toString(): string {
    return `${this.address.toString()}/${this.prefix}`;
  }

  /** The text form, so that results and configs serialise as Go does. */
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Parse `address/prefix` as Go's `net.ParseCIDR`, keeping the host bits in `address` (as
 * upstream's `types.ParseCIDR`). The prefix is decimal digits only, at most 32 for IPv4 text
 * and 128 for IPv6 text. An IPv4-mapped IPv6 text stays IPv6, as in Go (its 16-byte mask).
 *
 * @throws IpError `invalid CIDR address: "<text>"`.
 */
export function parseCidr(text: string): Cidr {
  const cidr = tryParseCidr(text);
  if (cidr === undefined) throw new IpError(`invalid CIDR address: ${quote(text)}`, { input: text });
  return cidr;
}

/** {@link parseCidr} that returns undefined instead of throwing. */
export function tryParseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddressText(text.slice(0, slash));
  if (address === undefined) return undefined;
  const prefix = parseDecimal(text, slash + 1);
  if (prefix === undefined || prefix > address.bits) return undefined;
  return new Cidr(address, prefix);
}

// Go's dtoi: one or more ASCII digits to the end of the text, no sign, leading zeros allowed.
function parseDecimal(text: string, from: number): number | undefined {
  if (from >= text.length) return undefined;
  let value = 0;
  for (let index = from; index < text.length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return undefined;
    // Anything past 128 is already invalid; stop growing so long digit strings stay exact.
    value = Math.min(value * 10 + digit, 1000);
  }
  return value;
}

/**
 * Parse an address with an optional prefix, as upstream's `ip.ParseIP` reads the `ips` of
 * runtime config and `CNI_ARGS` (`10.1.2.3` or `10.1.2.3/24`): a {@link Cidr} when there is a
 * prefix, an {@link IpAddress} (IPv4-mapped text unmapped) when there is not.
 *
 * @throws IpError `invalid IP address: "<text>"` or `invalid CIDR address: "<text>"`.
 */
export function parseIpOrCidr(text: string): IpAddress | Cidr {
  if (text.includes('/')) return parseCidr(text);
  const address = tryParseIp(text);
  if (address === undefined) throw new IpError(`invalid IP address: ${quote(text)}`, { input: text });
  return address;
}

/**
 * `ip/prefix` as Go prints it, the host bits of `ip` kept: `formatCidr(parseIp('10.1.2.3'), 24)`
 * is `'10.1.2.3/24'`.
 *
 * @throws IpError when `prefix` does not fit the family.
 */
export function formatCidr(ip: IpAddress, prefix: number): string {
  checkPrefix(ip.family, prefix);
  return `${ip.toString()}/${prefix}`;
}

/** The netmask of a prefix length as an address: `maskFromPrefix(4, 24)` is `255.255.255.0`. */
export function maskFromPrefix(family: IpFamily, prefix: number): IpAddress {
  checkPrefix(family, prefix);
  return new IpAddress(family, maskValue(family, prefix));
}

/**
 * The prefix length of a netmask (`255.255.255.0` gives 24), as a DHCP subnet-mask option
 * arrives.
 *
 * @throws IpError when the mask's one bits are not contiguous from the top.
 */
export function prefixFromMask(mask: IpAddress): number {
  const inverted = maxValue(mask.family) ^ mask.value;
  // A valid mask's inverse is 2^n - 1: all ones below some bit, nothing above.
  if ((inverted & (inverted + 1n)) !== 0n) throw new IpError(`non-contiguous netmask ${quote(mask.toString())}`);
  return mask.bits - inverted.toString(2).replace(/^0$/, '').length;
}
