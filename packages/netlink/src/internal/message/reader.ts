// SPDX-License-Identifier: Apache-2.0
import { align } from './writer.ts';

/** One message of a received datagram; `payload` is a view valid until the next receive. */
export interface RawMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly payload: Buffer;
}

/** Splits a datagram into its messages. */
export function* messages(datagram: Buffer): Generator<RawMessage> {
  let offset = 0;
  while (offset + 16 <= datagram.length) {
    const length = datagram.readUInt32LE(offset);
    if (length < 16 || offset + length > datagram.length) return;
    yield {
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      payload: datagram.subarray(offset + 16, offset + length),
    };
    offset += align(length);
  }
}

/** Attributes by type (flags stripped); values are views into the message. */
export type Attributes = Map<number, Buffer>;

/** Parses the attributes in `buffer` from `start`. A repeated type keeps its last value. */
export function attributes(buffer: Buffer, start = 0): Attributes {
  const found: Attributes = new Map();
  let offset = start;
  while (offset + 4 <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    if (length < 4 || offset + length > buffer.length) break;
    found.set(buffer.readUInt16LE(offset + 2) & 0x3fff, buffer.subarray(offset + 4, offset + length));
    offset += align(length);
  }
  return found;
}

/** Every attribute in order, repeats kept (bridge VLAN lists, multipath). */
export function attributeList(buffer: Buffer, start = 0): [number, Buffer][] {
  const found: [number, Buffer][] = [];
  let offset = start;
  while (offset + 4 <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    if (length < 4 || offset + length > buffer.length) break;
    found.push([buffer.readUInt16LE(offset + 2) & 0x3fff, buffer.subarray(offset + 4, offset + length)]);
    offset += align(length);
  }
  return found;
}

/** A NUL-terminated string attribute. */
export function str(value: Buffer | undefined): string | undefined {
  if (!value) return undefined;
  const end = value.indexOf(0);
  return value.toString('utf8', 0, end < 0 ? value.length : end);
}

/** Fixed-size integer attributes, little-endian (host order on the machines this runs on). */
export function u8(value: Buffer | undefined): number | undefined {
  return value && value.length >= 1 ? value.readUInt8(0) : undefined;
}

export function u16(value: Buffer | undefined): number | undefined {
  return value && value.length >= 2 ? value.readUInt16LE(0) : undefined;
}

export function u32(value: Buffer | undefined): number | undefined {
  return value && value.length >= 4 ? value.readUInt32LE(0) : undefined;
}

export function i32(value: Buffer | undefined): number | undefined {
  return value && value.length >= 4 ? value.readInt32LE(0) : undefined;
}

/** A MAC address as `aa:bb:cc:dd:ee:ff`. */
export function mac(value: Buffer | undefined): string | undefined {
  if (!value || value.length === 0) return undefined;
  return [...value].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}
