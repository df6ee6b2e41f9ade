// SPDX-License-Identifier: Apache-2.0
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * `size` random bytes from the kernel (/dev/urandom), for names of temporary links, files and
 * namespaces. node:crypto gives the same, but loading it costs a plugin 6 to 9 ms of its start;
 * reading the device costs about 0.15 ms. Falls back to node:crypto where /dev/urandom cannot be
 * read (a root without /dev).
 *
 * @example
 * ```ts
 * const name = `veth${randomHex(4)}`; // veth3fa9c2d1
 * ```
 */
export function randomBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    for (let filled = 0; filled < size; ) {
      const count = readSync(fd, bytes, filled, size - filled, null);
      if (count === 0) throw new Error('short read');
      filled += count;
    }
    return bytes;
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(size);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `size` random bytes as lowercase hex (`2 * size` characters). See {@link randomBytes}. */
export function randomHex(size: number): string {
  return randomBytes(size).toString('hex');
}
