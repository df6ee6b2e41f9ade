// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { randomBytes, randomHex } from './random.ts';

describe('randomBytes', () => {
  it('gives the size asked for, different each time', () => {
    expect(randomBytes(0)).toHaveLength(0);
    expect(randomBytes(6)).toHaveLength(6);
    const seen = new Set(Array.from({ length: 200 }, () => randomHex(4)));
    expect(seen.size).toBe(200);
    expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
  });
});
