// SPDX-License-Identifier: Apache-2.0
// Text forms exactly as Go's net.IP.String() prints them, since that is what results carry and
// what tests compare against the reference plugins.

/** Dotted quad of a 32-bit value. */
export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * RFC 5952 form of a 128-bit value, as Go prints it: lowercase hex without leading zeros, the
 * longest run of two or more zero groups (the first of equal runs) written `::`. An IPv4-mapped
 * value (`::ffff:a.b.c.d`) prints as bare dotted IPv4, because Go's `String()` tries `To4()` first.
 */
export function formatIpv6(value: bigint): string {
  // Four 32-bit words keep the bigint work to a few shifts; the rest is number math.
  const w0 = Number(value >> 96n);
  const w1 = Number((value >> 64n) & 0xffffffffn);
  const w2 = Number((value >> 32n) & 0xffffffffn);
  const w3 = Number(value & 0xffffffffn);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return formatIpv4(w3);
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];

  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let index = 0; index < 8; ) {
    if (groups[index] !== 0) {
      index++;
      continue;
    }
    let end = index;
    while (end < 8 && groups[end] === 0) end++;
    if (end - index > bestLength) {
      bestStart = index;
      bestLength = end - index;
    }
    index = end;
  }

  let text = '';
  for (let index = 0; index < 8; index++) {
    if (index === bestStart) {
      text += '::';
      index += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += hex(groups[index]!);
  }
  return text;
}

function hex(group: number): string {
  return group.toString(16);
}
