// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { temporaryLinkName } from './rename.ts';

describe('temporaryLinkName', () => {
  it('derives the name from the attachment, so that DEL finds what a killed ADD left', () => {
    const name = temporaryLinkName('vl', 'c0ffee/eth0');
    expect(name).toMatch(/^vl[0-9a-f]{8}$/);
    expect(temporaryLinkName('vl', 'c0ffee/eth0')).toBe(name);
    expect(temporaryLinkName('vl', 'c0ffee/eth1')).not.toBe(name);
    // IFNAMSIZ: 15 bytes with the longest prefix in use.
    expect(temporaryLinkName('ipv', 'a'.repeat(256)).length).toBeLessThanOrEqual(15);
  });

  it('is random without an attachment', () => {
    expect(temporaryLinkName('mv')).toMatch(/^mv[0-9a-f]{8}$/);
    expect(temporaryLinkName('mv')).not.toBe(temporaryLinkName('mv'));
  });
});
