// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { MAX_ALIAS_BYTES, attachmentAlias, isStaleAttachment, parseAttachmentAlias } from './index.ts';

const containerId = 'c'.repeat(64);

describe('attachmentAlias', () => {
  it('keeps the readable form when it fits, and parses it back', () => {
    const alias = attachmentAlias('bridge', 'pods', containerId, 'eth0');
    expect(alias).toBe(`cni/bridge/pods/${containerId}/eth0`);
    expect(parseAttachmentAlias(alias, 'bridge')).toEqual({ form: 'full', network: 'pods', containerId, ifName: 'eth0' });
    expect(parseAttachmentAlias(alias, 'ptp')).toBeUndefined();
  });

  it('fits the kernel limit for the longest valid inputs (issue 22: a 174-byte network name overflowed it)', () => {
    for (const length of [174, 200, 253, 1000]) {
      const network = 'n'.repeat(length);
      const alias = attachmentAlias('bridge', network, containerId, 'eth0123456789ab');
      expect(Buffer.byteLength(alias)).toBeLessThanOrEqual(MAX_ALIAS_BYTES);
      const owner = parseAttachmentAlias(alias, 'bridge');
      expect(owner?.form).toBe('digest');
      expect(isStaleAttachment(owner!, network, [{ containerID: containerId, ifname: 'eth0123456789ab' }])).toBe(false);
      expect(isStaleAttachment(owner!, network, [{ containerID: containerId, ifname: 'eth1' }])).toBe(true);
      // Another network's GC leaves it alone.
      expect(isStaleAttachment(owner!, `${network}x`, [])).toBe(false);
    }
  });

  it('tells attachments apart in the bounded form', () => {
    const network = 'n'.repeat(200);
    const a = attachmentAlias('ptp', network, containerId, 'eth0');
    const b = attachmentAlias('ptp', network, containerId, 'eth1');
    expect(a).not.toBe(b);
  });

  it('GC still recognises the full form written before the bounded one existed', () => {
    const owner = parseAttachmentAlias(`cni/bridge/pods/${containerId}/eth0`, 'bridge')!;
    expect(isStaleAttachment(owner, 'pods', [{ containerID: containerId, ifname: 'eth0' }])).toBe(false);
    expect(isStaleAttachment(owner, 'pods', [])).toBe(true);
    expect(isStaleAttachment(owner, 'other', [])).toBe(false);
  });

  it('ignores aliases that are not ours', () => {
    for (const alias of [undefined, '', 'cni/bridge', 'cni/bridge/#zz/abc', 'mine/bridge/a/b/c']) {
      expect(parseAttachmentAlias(alias, 'bridge')).toBeUndefined();
    }
  });
});
