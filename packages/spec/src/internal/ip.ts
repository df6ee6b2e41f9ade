// SPDX-License-Identifier: Apache-2.0
// Just enough IP parsing to validate results the way Go's net.ParseIP / net.ParseCIDR do and to
// tell the families apart as net.IP.To4 does. Kept here (not @cni/ip, not node:net) so that
// parsing a config loads nothing else.

const ipv4Part = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // Go rejects leading zeros since 1.17 (they read as octal elsewhere); so do we.
    if (!ipv4Part.test(part)) return undefined;
    bytes.push(Number(part));
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const bytes: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (i === groups.length - 1 && group.includes('.')) {
      const v4 = parseIPv4(group);
      if (!v4) return undefined;
      bytes.push(...v4);
      continue;
    }
    if (!hexGroup.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

function parseIPv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!);
  if (!head) return undefined;
  if (halves.length === 1) return head.length === 16 ? head : undefined;
  // A trailing dotted quad only belongs at the very end, never before '::'.
  if (halves[0]!.includes('.')) return undefined;
  const tail = parseGroups(halves[1]!);
  if (!tail || head.length + tail.length > 14) return undefined;
  return [...head, ...new Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

/** The bytes of an IP address (4 for dotted IPv4, 16 for IPv6), or undefined when `text` is none. */
export function parseIp(text: string): number[] | undefined {
  if (text.includes(':')) return parseIPv6(text);
  return parseIPv4(text);
}

/** True for an address Go's net.IP.To4 accepts: dotted IPv4, or IPv4-mapped IPv6 (`::ffff:a.b.c.d`). */
export function isIPv4Bytes(bytes: readonly number[]): boolean {
  if (bytes.length === 4) return true;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** True when `text` parses as an IP address. */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** The address bytes of `ip/prefix`, or undefined when `text` is not a CIDR Go's ParseCIDR accepts. */
export function parseCidr(text: string): number[] | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const bytes = parseIp(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (!bytes || !/^\d{1,3}$/.test(prefix)) return undefined;
  // Go sizes the mask by how the address was written: 32 bits for dotted IPv4, 128 otherwise.
  const bits = text.slice(0, slash).includes(':') ? 128 : 32;
  return Number(prefix) <= bits ? bytes : undefined;
}

/** "4" when the address of a CIDR (or a bare IP) is IPv4 as Go's To4 sees it, "6" otherwise. */
export function ipVersionOf(cidrOrIp: string): '4' | '6' {
  const slash = cidrOrIp.indexOf('/');
  const bytes = parseIp(slash < 0 ? cidrOrIp : cidrOrIp.slice(0, slash));
  return bytes && isIPv4Bytes(bytes) ? '4' : '6';
}
