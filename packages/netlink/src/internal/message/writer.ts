// SPDX-License-Identifier: Apache-2.0

const NLA_F_NESTED = 0x8000;

/** 4-byte netlink alignment. */
export function align(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Writes one netlink message into a buffer: the header, a fixed family header, then attributes
 * (nested ones through {@link MessageWriter.nest}). Alignment padding is zeroed as the kernel expects.
 */
export class MessageWriter {
  readonly buffer: Buffer;
  #offset = 0;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  /** Starts a message; the length is filled by {@link MessageWriter.finish}. */
  begin(type: number, flags: number, seq: number): this {
    this.#offset = 16;
    this.buffer.writeUInt32LE(0, 0);
    this.buffer.writeUInt16LE(type, 4);
    this.buffer.writeUInt16LE(flags, 6);
    this.buffer.writeUInt32LE(seq >>> 0, 8);
    this.buffer.writeUInt32LE(0, 12);
    return this;
  }

  /** Appends raw bytes (a family header or a struct), padded to 4 bytes. */
  raw(bytes: Uint8Array): this {
    this.#reserve(align(bytes.length));
    this.buffer.set(bytes, this.#offset);
    this.buffer.fill(0, this.#offset + bytes.length, this.#offset + align(bytes.length));
    this.#offset += align(bytes.length);
    return this;
  }

  /** Appends `length` zero bytes and returns where they start, for fixed headers written in place. */
  zeros(length: number): number {
    this.#reserve(align(length));
    const at = this.#offset;
    this.buffer.fill(0, at, at + align(length));
    this.#offset += align(length);
    return at;
  }

  /** An attribute holding raw bytes. */
  attr(type: number, bytes: Uint8Array): this {
    const length = 4 + bytes.length;
    this.#reserve(align(length));
    this.buffer.writeUInt16LE(length, this.#offset);
    this.buffer.writeUInt16LE(type, this.#offset + 2);
    this.buffer.set(bytes, this.#offset + 4);
    this.buffer.fill(0, this.#offset + length, this.#offset + align(length));
    this.#offset += align(length);
    return this;
  }

  #fixed(type: number, size: number, write: (at: number) => void): this {
    this.#reserve(align(4 + size));
    this.buffer.writeUInt16LE(4 + size, this.#offset);
    this.buffer.writeUInt16LE(type, this.#offset + 2);
    this.buffer.fill(0, this.#offset + 4, this.#offset + align(4 + size));
    write(this.#offset + 4);
    this.#offset += align(4 + size);
    return this;
  }

  u8(type: number, value: number): this {
    return this.#fixed(type, 1, (at) => this.buffer.writeUInt8(value, at));
  }

  u16(type: number, value: number): this {
    return this.#fixed(type, 2, (at) => this.buffer.writeUInt16LE(value, at));
  }

  /** A 16-bit attribute in network byte order (VLAN protocol, ports). */
  be16(type: number, value: number): this {
    return this.#fixed(type, 2, (at) => this.buffer.writeUInt16BE(value, at));
  }

  u32(type: number, value: number): this {
    return this.#fixed(type, 4, (at) => this.buffer.writeUInt32LE(value >>> 0, at));
  }

  u64(type: number, value: bigint | number): this {
    return this.#fixed(type, 8, (at) => this.buffer.writeBigUInt64LE(BigInt(value), at));
  }

  /** A NUL-terminated string attribute. */
  string(type: number, value: string): this {
    const bytes = Buffer.from(`${value}\0`, 'utf8');
    return this.attr(type, bytes);
  }

  /** A nested attribute whose children `fill` writes. */
  nest(type: number, fill: () => void, flagNested = true): this {
    this.#reserve(4);
    const at = this.#offset;
    this.buffer.writeUInt16LE(type | (flagNested ? NLA_F_NESTED : 0), at + 2);
    this.#offset += 4;
    fill();
    this.buffer.writeUInt16LE(this.#offset - at, at);
    return this;
  }

  /** Writes the total length into the header and returns it. */
  finish(): number {
    this.buffer.writeUInt32LE(this.#offset, 0);
    return this.#offset;
  }

  #reserve(length: number): void {
    if (this.#offset + length > this.buffer.length) throw new RangeError('netlink message too large');
  }
}
