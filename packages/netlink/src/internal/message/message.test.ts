// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { attributeList, attributes, mac, messages, str, u16, u32, u8 } from './reader.ts';
import { align, MessageWriter } from './writer.ts';

describe('MessageWriter and the reader', () => {
  it('writes a header, a family header and padded attributes the reader parses back', () => {
    const writer = new MessageWriter(Buffer.alloc(256, 0xee));
    writer.begin(16, 0x405, 77);
    const at = writer.zeros(16);
    writer.buffer.writeInt32LE(7, at + 4);
    writer.string(3, 'eth0');
    writer.u8(10, 1);
    writer.u16(11, 0x1234);
    writer.be16(12, 0x8100);
    writer.u32(4, 1500);
    writer.u64(13, 5n);
    writer.nest(18, () => {
      writer.string(1, 'veth');
      writer.nest(2, () => writer.u32(1, 9));
    });
    const length = writer.finish();
    expect(length % 4).toBe(0);

    const [message, ...rest] = [...messages(writer.buffer.subarray(0, length))];
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ type: 16, flags: 0x405, seq: 77 });
    expect(message!.payload.readInt32LE(4)).toBe(7);
    const attrs = attributes(message!.payload, 16);
    expect(str(attrs.get(3))).toBe('eth0');
    expect(u8(attrs.get(10))).toBe(1);
    expect(u16(attrs.get(11))).toBe(0x1234);
    expect(attrs.get(12)?.readUInt16BE(0)).toBe(0x8100);
    expect(u32(attrs.get(4))).toBe(1500);
    expect(attrs.get(13)?.readBigUInt64LE(0)).toBe(5n);
    // The nested flag is stripped from the type, and padding is zeroed (not the 0xee fill).
    const info = attributes(attrs.get(18)!);
    expect(str(info.get(1))).toBe('veth');
    expect(u32(attributes(info.get(2)!).get(1))).toBe(9);
    expect(writer.buffer.readUInt16LE(16 + 16 + 2 + 8) & 0x8000).toBe(0);
    expect(writer.buffer.subarray(16 + 16 + 9, 16 + 16 + 12).every((byte) => byte === 0)).toBe(true);
  });

  it('keeps repeated attributes in order in attributeList', () => {
    const writer = new MessageWriter(Buffer.alloc(64));
    writer.begin(1, 0, 1);
    writer.u16(2, 10).u16(2, 20);
    const length = writer.finish();
    const [message] = [...messages(writer.buffer.subarray(0, length))];
    expect(attributeList(message!.payload).map(([type, value]) => [type, value.readUInt16LE(0)])).toEqual([
      [2, 10],
      [2, 20],
    ]);
  });

  it('refuses to overflow its buffer', () => {
    const writer = new MessageWriter(Buffer.alloc(24));
    writer.begin(1, 0, 1);
    expect(() => writer.string(1, 'a string longer than the buffer')).toThrow(RangeError);
  });

  it('formats MAC addresses and aligns lengths', () => {
    expect(mac(Buffer.from([0x0a, 0x58, 0, 1, 2, 0xff]))).toBe('0a:58:00:01:02:ff');
    expect(mac(Buffer.alloc(0))).toBeUndefined();
    expect([0, 1, 4, 5, 8].map(align)).toEqual([0, 4, 4, 8, 8]);
  });

  it('stops at a truncated message', () => {
    const datagram = Buffer.alloc(20);
    datagram.writeUInt32LE(64, 0);
    expect([...messages(datagram)]).toEqual([]);
  });
});
