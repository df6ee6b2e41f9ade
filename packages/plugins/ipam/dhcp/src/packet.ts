// SPDX-License-Identifier: Apache-2.0
import { DhcpPacketError } from './errors.ts';
import { DHCP_OPTION, ipv4ToBytes, ipv4ToString } from './options.ts';

/** The magic cookie that starts the options field (RFC 2131 section 3). */
export const MAGIC_COOKIE = 0x63825363;
/** The fixed header before the cookie: 236 bytes. */
const HEADER_LENGTH = 236;
/** BOOTP's minimum message: some relays and servers drop shorter ones. */
const MIN_LENGTH = 300;
/** The broadcast bit of `flags`: asks the server to broadcast its answer. */
export const FLAG_BROADCAST = 0x8000;

/** A DHCPv4 message (RFC 2131 section 2), options kept by code as raw bytes in the order given. */
export interface DhcpMessage {
  /** 1 request (client to server), 2 reply. */
  op: 1 | 2;
  /** Transaction id chosen by the client. */
  xid: number;
  /** Seconds since the client began acquiring. */
  secs: number;
  /** Bit 15 is {@link FLAG_BROADCAST}. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client's hardware address, `aa:bb:cc:dd:ee:ff`. */
  chaddr: string;
  /** Options by code; a code given twice is concatenated (RFC 3396). */
  options: Map<number, Buffer>;
}

function macToBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length < 1 || parts.length > 16 || parts.some((part) => !/^[0-9a-fA-F]{2}$/.test(part))) {
    throw new DhcpPacketError(`invalid hardware address "${mac}"`);
  }
  return Buffer.from(parts.map((part) => Number.parseInt(part, 16)));
}

/**
 * Encode a message. Options are written in insertion order; a value over 255 bytes is split
 * over several instances of the option (RFC 3396). The message is padded to BOOTP's 300 bytes.
 */
export function encodeMessage(message: DhcpMessage): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH + 4);
  const hardware = macToBytes(message.chaddr);
  header[0] = message.op;
  header[1] = 1; // Ethernet
  header[2] = hardware.length;
  header[3] = 0;
  header.writeUInt32BE(message.xid >>> 0, 4);
  header.writeUInt16BE(Math.min(message.secs, 0xffff), 8);
  header.writeUInt16BE(message.flags & 0xffff, 10);
  ipv4ToBytes(message.ciaddr).copy(header, 12);
  ipv4ToBytes(message.yiaddr).copy(header, 16);
  ipv4ToBytes(message.siaddr).copy(header, 20);
  ipv4ToBytes(message.giaddr).copy(header, 24);
  hardware.copy(header, 28);
  header.writeUInt32BE(MAGIC_COOKIE, HEADER_LENGTH);
  const parts: Buffer[] = [header];
  for (const [code, value] of message.options) {
    if (code === DHCP_OPTION.PAD || code === DHCP_OPTION.END) continue;
    if (!Number.isInteger(code) || code < 1 || code > 254) throw new DhcpPacketError(`invalid option code ${code}`);
    if (value.length === 0) {
      parts.push(Buffer.from([code, 0]));
      continue;
    }
    for (let at = 0; at < value.length; at += 255) {
      const chunk = value.subarray(at, at + 255);
      parts.push(Buffer.from([code, chunk.length]), chunk);
    }
  }
  parts.push(Buffer.from([DHCP_OPTION.END]));
  const body = Buffer.concat(parts);
  return body.length >= MIN_LENGTH ? body : Buffer.concat([body, Buffer.alloc(MIN_LENGTH - body.length)]);
}

function readOptions(bytes: Buffer, into: Map<number, Buffer>, where: string): void {
  let at = 0;
  while (at < bytes.length) {
    const code = bytes[at]!;
    if (code === DHCP_OPTION.PAD) {
      at += 1;
      continue;
    }
    if (code === DHCP_OPTION.END) return;
    if (at + 1 >= bytes.length) throw new DhcpPacketError(`option ${code} in the ${where} has no length`);
    const length = bytes[at + 1]!;
    if (at + 2 + length > bytes.length) throw new DhcpPacketError(`option ${code} in the ${where} runs past the end of the message`);
    const value = Buffer.from(bytes.subarray(at + 2, at + 2 + length));
    const earlier = into.get(code);
    into.set(code, earlier === undefined ? value : Buffer.concat([earlier, value]));
    at += 2 + length;
  }
}

/**
 * Decode a message. Option overload (52) is honoured: options in `file` and `sname` are read
 * after the options field, as RFC 2131 section 4.1 orders them.
 *
 * @throws DhcpPacketError for a message too short, without the magic cookie, or with an
 * option running past its field.
 */
export function decodeMessage(bytes: Uint8Array): DhcpMessage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < HEADER_LENGTH + 4) throw new DhcpPacketError(`a DHCP message of ${buffer.length} bytes is too short`);
  if (buffer.readUInt32BE(HEADER_LENGTH) !== MAGIC_COOKIE) throw new DhcpPacketError('not a DHCP message: no magic cookie');
  const op = buffer[0];
  if (op !== 1 && op !== 2) throw new DhcpPacketError(`invalid op ${op}`);
  const hlen = Math.min(buffer[2]!, 16);
  const chaddr = [...buffer.subarray(28, 28 + hlen)].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
  const options = new Map<number, Buffer>();
  readOptions(buffer.subarray(HEADER_LENGTH + 4), options, 'options field');
  const overload = options.get(DHCP_OPTION.OVERLOAD)?.[0] ?? 0;
  if (overload & 1) readOptions(buffer.subarray(108, 236), options, 'file field');
  if (overload & 2) readOptions(buffer.subarray(44, 108), options, 'sname field');
  return {
    op,
    xid: buffer.readUInt32BE(4),
    secs: buffer.readUInt16BE(8),
    flags: buffer.readUInt16BE(10),
    ciaddr: ipv4ToString(buffer, 12),
    yiaddr: ipv4ToString(buffer, 16),
    siaddr: ipv4ToString(buffer, 20),
    giaddr: ipv4ToString(buffer, 24),
    chaddr,
    options,
  };
}

/** The message type (option 53) of a message, or undefined without one. */
export function messageType(message: DhcpMessage): number | undefined {
  const value = message.options.get(DHCP_OPTION.MESSAGE_TYPE);
  return value?.length === 1 ? value[0] : undefined;
}
