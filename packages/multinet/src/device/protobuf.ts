// SPDX-License-Identifier: Apache-2.0
// The few protobuf wire-format rules the PodResources API needs (varints and length-delimited
// fields), so multinet carries no protobuf runtime for one call.

/** One field of a message: its number, and a varint or the bytes of a length-delimited value. */
export type ProtoField = { field: number; varint: bigint; bytes?: undefined } | { field: number; bytes: Buffer; varint?: undefined };

function readVarint(buffer: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let offset = at; offset < buffer.length; offset++) {
    const byte = buffer[offset]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, offset + 1];
    shift += 7n;
    if (shift > 63n) break;
  }
  throw new Error('malformed protobuf varint');
}

/** The fields of a message in order; fixed32/fixed64 fields are skipped. */
export function decodeMessage(buffer: Buffer): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < buffer.length) {
    const [key, next] = readVarint(buffer, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(buffer, at);
      fields.push({ field, varint: value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buffer, at);
      const end = after + Number(length);
      if (end > buffer.length) throw new Error('malformed protobuf: a field runs past the message');
      fields.push({ field, bytes: buffer.subarray(after, end) });
      at = end;
    } else if (wire === 1) {
      at += 8;
    } else if (wire === 5) {
      at += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  return fields;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited field (string, bytes or a nested message). */
export function encodeField(field: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** The strings of every `field` of a message. */
export function strings(fields: readonly ProtoField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.bytes).map((f) => f.bytes!.toString('utf8'));
}

/** The nested messages of every `field` of a message. */
export function messages(fields: readonly ProtoField[], field: number): ProtoField[][] {
  return fields.filter((f) => f.field === field && f.bytes).map((f) => decodeMessage(f.bytes!));
}
