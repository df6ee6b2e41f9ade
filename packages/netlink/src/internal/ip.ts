// SPDX-License-Identifier: Apache-2.0
import { isIPv4, isIPv6 } from 'node:net';

/** An address family number: AF_INET or AF_INET6. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** A parsed IP address, with the prefix length when it came from a CIDR. */
export interface ParsedAddress {
  readonly family: typeof AF_INET | typeof AF_INET6;
  readonly bytes: Buffer;
  readonly prefix: number;
}

/** Parses `10.1.2.3`, `fd00::1` (full prefix) or a CIDR; undefined when it is neither. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  let family: typeof AF_INET | typeof AF_INET6;
  let bytes: Buffer;
  if (isIPv4(host)) {
    family = AF_INET;
    bytes = Buffer.from(host.split('.').map(Number));
  } else if (isIPv6(host) && !host.includes('%')) {
    family = AF_INET6;
    bytes = ipv6Bytes(host);
  } else {
    return undefined;
  }
  const max = bytes.length * 8;
  if (slash < 0) return { family, bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { family, bytes, prefix };
}

function ipv6Bytes(text: string): Buffer {
  let source = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = source.lastIndexOf(':');
  const tail = source.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    source = `${source.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = source.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

/** Formats 4 or 16 address bytes as text (IPv6 compressed as RFC 5952 says). */
export function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Zeroes the host bits of an address (the network of a CIDR). */
export function networkOf(bytes: Buffer, prefix: number): Buffer {
  const network = Buffer.from(bytes);
  for (let bit = prefix; bit < network.length * 8; bit++) {
    const index = bit >> 3;
    network[index] = network[index]! & ~(0x80 >> (bit & 7));
  }
  return network;
}
