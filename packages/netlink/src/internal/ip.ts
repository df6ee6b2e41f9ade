// SPDX-License-Identifier: Apache-2.0
// Parsed here rather than with node:net, whose import costs more than this whole package's.

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
  const v4 = ipv4Bytes(host);
  if (v4) {
    family = AF_INET;
    bytes = v4;
  } else {
    const v6 = host.includes(':') ? ipv6Bytes(host) : undefined;
    if (!v6) return undefined;
    family = AF_INET6;
    bytes = v6;
  }
  const max = bytes.length * 8;
  if (slash < 0) return { family, bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { family, bytes, prefix };
}

/** Dotted-quad IPv4; leading zeros are refused (as Go's net.ParseIP does since 1.17). */
function ipv4Bytes(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = Buffer.alloc(4);
  for (const [index, part] of parts.entries()) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[index] = Number(part);
  }
  return bytes;
}

/** RFC 4291 text (with `::` and an IPv4 tail); zones are refused. */
function ipv6Bytes(text: string): Buffer | undefined {
  let source = text;
  const tailGroups: number[] = [];
  const lastColon = source.lastIndexOf(':');
  const tail = source.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Bytes(tail);
    if (!v4) return undefined;
    tailGroups.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    const head = source.slice(0, lastColon + 1);
    source = head.endsWith('::') ? head : head.slice(0, -1);
  }
  const halves = source.split('::');
  if (halves.length > 2) return undefined;
  const parse = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups = half.split(':');
    if (groups.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
    return groups.map((group) => parseInt(group, 16));
  };
  const left = parse(halves[0] ?? '');
  const right = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  const known = left.length + right.length + tailGroups.length;
  let groups: number[];
  if (halves.length === 2) {
    if (known > 7) return undefined;
    groups = [...left, ...Array<number>(8 - known).fill(0), ...right, ...tailGroups];
  } else {
    if (known !== 8) return undefined;
    groups = [...left, ...tailGroups];
  }
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
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
