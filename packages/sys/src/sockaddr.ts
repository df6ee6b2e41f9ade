// SPDX-License-Identifier: Apache-2.0
import { AF_INET, AF_INET6, AF_PACKET } from './constants.ts';
import { SysError } from './errors.ts';

/** An IPv4 socket address (`struct sockaddr_in`). */
export interface Inet4SocketAddress {
  family: 'inet';
  /** Dotted quad, e.g. `0.0.0.0` for any. */
  address: string;
  port: number;
}

/** An IPv6 socket address (`struct sockaddr_in6`). */
export interface Inet6SocketAddress {
  family: 'inet6';
  /** Textual IPv6 address, e.g. `::` for any or `fe80::1`. */
  address: string;
  port: number;
  /** Interface index for link-local addresses; 0 when left out. */
  scopeId?: number;
  flowInfo?: number;
}

/** A link-layer socket address (`struct sockaddr_ll`), for `AF_PACKET` sockets. */
export interface PacketSocketAddress {
  family: 'packet';
  /** Ethernet protocol in host order, e.g. `ETH_P_IP`. */
  protocol: number;
  /** The interface index. */
  ifindex: number;
  /** ARP hardware type; 0 when left out. */
  hatype?: number;
  /** Packet type; 0 when left out. */
  pkttype?: number;
  /** Destination hardware address for sending, e.g. `ff:ff:ff:ff:ff:ff`. */
  hardwareAddress?: string;
}

/** A socket address of one of the families @cni/sys speaks. */
export type SocketAddress = Inet4SocketAddress | Inet6SocketAddress | PacketSocketAddress;

// node:net would answer these two questions too, but costs milliseconds to import in every plugin.
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const GROUP = /^[0-9a-f]{1,4}$/i;

/** The bytes of an IPv6 address; throws InvalidArgument for anything else. */
function ipv6Bytes(address: string): Buffer {
  const fail = () => new SysError('inet_pton', 22, { target: address, description: 'invalid IPv6 address' });
  let text = address.replace(/%[^%]+$/, '');
  if (text.split('::').length > 2) throw fail();
  const bytes = Buffer.alloc(16);
  // An IPv4 tail (::ffff:1.2.3.4) is two groups written as a dotted quad.
  const v4 = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    if (!IPV4.test(v4[1])) throw fail();
    const [a, b, c, d] = v4[1].split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, text.length - v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail !== undefined && missing < 1) throw fail();
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  if (groups.length !== 8 || !groups.every((group) => GROUP.test(group))) throw fail();
  groups.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2));
  return bytes;
}

/** The text of an IPv6 address in its 16 bytes, not compressed (enough for messages and tests). */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(bytes.readUInt16BE(index).toString(16));
  return groups.join(':');
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SysError('bind', 22, { target: String(port), description: 'invalid port, must be [0, 65535]' });
  }
  return port;
}

/** Encode a socket address as the kernel reads it. */
export function encodeSocketAddress(address: SocketAddress): Buffer {
  switch (address.family) {
    case 'inet': {
      if (!IPV4.test(address.address)) throw new SysError('inet_pton', 22, { target: address.address, description: 'invalid IPv4 address' });
      const buffer = Buffer.alloc(16);
      buffer.writeUInt16LE(AF_INET, 0);
      buffer.writeUInt16BE(checkPort(address.port), 2);
      address.address.split('.').forEach((octet, index) => buffer.writeUInt8(Number(octet), 4 + index));
      return buffer;
    }
    case 'inet6': {
      const buffer = Buffer.alloc(28);
      buffer.writeUInt16LE(AF_INET6, 0);
      buffer.writeUInt16BE(checkPort(address.port), 2);
      buffer.writeUInt32BE(address.flowInfo ?? 0, 4);
      ipv6Bytes(address.address).copy(buffer, 8);
      buffer.writeUInt32LE(address.scopeId ?? 0, 24);
      return buffer;
    }
    case 'packet': {
      const buffer = Buffer.alloc(20);
      buffer.writeUInt16LE(AF_PACKET, 0);
      buffer.writeUInt16BE(address.protocol, 2);
      buffer.writeInt32LE(address.ifindex, 4);
      buffer.writeUInt16LE(address.hatype ?? 0, 8);
      buffer.writeUInt8(address.pkttype ?? 0, 10);
      if (address.hardwareAddress !== undefined) {
        const octets = address.hardwareAddress.split(':').map((octet) => Number.parseInt(octet, 16));
        if (octets.length > 8 || octets.some((octet) => !(octet >= 0 && octet <= 255))) {
          throw new SysError('bind', 22, { target: address.hardwareAddress, description: 'invalid hardware address' });
        }
        buffer.writeUInt8(octets.length, 11);
        octets.forEach((octet, index) => buffer.writeUInt8(octet, 12 + index));
      }
      return buffer;
    }
  }
}

/** Decode a socket address the kernel wrote; undefined for a family @cni/sys does not speak. */
export function decodeSocketAddress(buffer: Buffer, length = buffer.length): SocketAddress | undefined {
  if (length < 2) return undefined;
  const family = buffer.readUInt16LE(0);
  if (family === AF_INET && length >= 8) {
    return { family: 'inet', address: [4, 5, 6, 7].map((index) => buffer[index]).join('.'), port: buffer.readUInt16BE(2) };
  }
  if (family === AF_INET6 && length >= 28) {
    return {
      family: 'inet6',
      address: ipv6Text(buffer.subarray(8, 24)),
      port: buffer.readUInt16BE(2),
      flowInfo: buffer.readUInt32BE(4),
      scopeId: buffer.readUInt32LE(24),
    };
  }
  if (family === AF_PACKET && length >= 12) {
    const halen = Math.min(buffer.readUInt8(11), 8);
    const hardware = [...buffer.subarray(12, 12 + halen)].map((octet) => octet.toString(16).padStart(2, '0')).join(':');
    return {
      family: 'packet',
      protocol: buffer.readUInt16BE(2),
      ifindex: buffer.readInt32LE(4),
      hatype: buffer.readUInt16LE(8),
      pkttype: buffer.readUInt8(10),
      ...(halen > 0 ? { hardwareAddress: hardware } : {}),
    };
  }
  return undefined;
}
