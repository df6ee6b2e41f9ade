// SPDX-License-Identifier: Apache-2.0
import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { NetfilterValidationError } from './errors.ts';

/** An interface address split into the parts the rules need. */
export interface ParsedCidr {
  family: 4 | 6;
  /** The host address in canonical text, e.g. `10.88.0.2` or `fd00:88::2`. */
  address: string;
  prefixLength: number;
  /** The network address in canonical text, e.g. `10.88.0.0`. */
  network: string;
}

/**
 * Parse `10.88.0.2/16` or `fd00:88::2/64` (a bare address counts as a host prefix), refusing
 * anything else: the result is the only form of an address that reaches a rule.
 */
export function parseCidr(value: string, field = 'address'): ParsedCidr {
  if (typeof value !== 'string') throw new NetfilterValidationError(field, String(value), 'not a string');
  const slash = value.indexOf('/');
  const host = slash === -1 ? value : value.slice(0, slash);
  const family = isIPv4(host) ? 4 : isIPv6(host) && !host.includes('%') ? 6 : undefined;
  if (family === undefined) throw new NetfilterValidationError(field, value, 'not an IP address');
  const bits = family === 4 ? 32 : 128;
  let prefixLength = bits;
  if (slash !== -1) {
    const text = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text) || Number(text) > bits) {
      throw new NetfilterValidationError(field, value, `prefix length must be 0 to ${bits}`);
    }
    prefixLength = Number(text);
  }
  const number = family === 4 ? ipv4ToBigInt(host) : ipv6ToBigInt(host);
  const mask = prefixLength === 0 ? 0n : ((1n << BigInt(prefixLength)) - 1n) << BigInt(bits - prefixLength);
  return {
    family,
    address: formatIp(number, family),
    prefixLength,
    network: formatIp(number & mask, family),
  };
}

function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(text: string): bigint {
  let body = text;
  // An embedded IPv4 tail becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    body = `${body.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

function formatIp(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  // inet_ntop's RFC 5952 compression, through Node's own formatting.
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/**
 * An interface name as the kernel accepts it (1 to 15 bytes, no `/`, `:` or white space, not
 * `.` or `..`, as libcni's `ValidateInterfaceName`), and nothing a rule could read as syntax:
 * no quote, backslash or control character, no leading `@` or `$` (set and variable
 * references in nft) and no `*` (a wildcard in nft).
 */
export function validateInterfaceName(value: string, field = 'interface name'): string {
  if (typeof value !== 'string' || value === '') throw new NetfilterValidationError(field, String(value), 'must not be empty');
  if (Buffer.byteLength(value, 'utf8') > 15) throw new NetfilterValidationError(field, value, 'longer than 15 bytes');
  if (value === '.' || value === '..') throw new NetfilterValidationError(field, value, 'not a valid name');
  // eslint-disable-next-line no-control-regex
  if (/[/:\s"'\\*\x00-\x1f\x7f]/.test(value) || /^[@$]/.test(value)) {
    throw new NetfilterValidationError(field, value, 'contains a character not allowed in an interface name');
  }
  return value;
}

/**
 * A container ID as libcni's `ValidateContainerID` accepts it: letters, digits, `_`, `.` and
 * `-`, starting with a letter or digit. It becomes part of chain names.
 */
export function validateContainerId(value: string, field = 'container ID'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
    throw new NetfilterValidationError(field, String(value), 'must be letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  return value;
}

/**
 * A network name for a rule comment: any text without control characters. Quotes are handled
 * where the comment is made (Go quoting for iptables, removed for nftables, as upstream).
 */
export function validateNetworkName(value: string, field = 'network name'): string {
  if (typeof value !== 'string' || value === '') throw new NetfilterValidationError(field, String(value), 'must not be empty');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new NetfilterValidationError(field, value, 'contains a control character');
  return value;
}

/** A MAC address `aa:bb:cc:dd:ee:ff` (any case, `-` accepted), returned in lower case with colons. */
export function validateMac(value: string, field = 'MAC address'): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(value)) {
    throw new NetfilterValidationError(field, String(value), 'must be six hex octets such as "aa:bb:cc:dd:ee:ff"');
  }
  return value.toLowerCase().replaceAll('-', ':');
}
