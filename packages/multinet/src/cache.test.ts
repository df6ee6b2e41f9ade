// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  attachmentCachePath,
  deleteAttachmentCache,
  listAttachmentCaches,
  readAttachmentCache,
  writeAttachmentCache,
  type AttachmentRecord,
} from './cache.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'multinet-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record: AttachmentRecord = {
  containerId: 'c1',
  netns: '/var/run/netns/c1',
  ifName: 'eth0',
  pod: { namespace: 'web', name: 'a' },
  attachments: [{ network: 'pods', ifName: 'eth0', config: '{}', args: [['K8S_POD_NAME', 'a']], capabilityArgs: {}, isDefault: true }],
};

describe('attachment cache', () => {
  it('writes atomically (0600, no temporary left) and reads back', () => {
    writeAttachmentCache(dir, record);
    expect(readAttachmentCache(dir, 'c1')).toEqual({ state: 'ok', record });
    expect(statSync(attachmentCachePath(dir, 'c1')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'attachments'))).toEqual(['c1']);
    expect(listAttachmentCaches(dir)).toEqual(['c1']);
  });

  it('checksums records with FNV-1a 64, and still reads the sha256 records of 0.1.0', () => {
    writeAttachmentCache(dir, record);
    const file = attachmentCachePath(dir, 'c1');
    const written = JSON.parse(readFileSync(file, 'utf8')) as { checksum: string; record: string };
    expect(written.checksum).toMatch(/^fnv1a64:[0-9a-f]{16}$/);
    const body = written.record;
    const legacy = JSON.stringify({ kind: 'multinetAttachmentsV1', checksum: createHash('sha256').update(body).digest('hex'), record: body });
    writeFileSync(file, legacy);
    expect(readAttachmentCache(dir, 'c1')).toEqual({ state: 'ok', record });
    writeFileSync(file, legacy.replace(/"checksum":"[0-9a-f]/, '"checksum":"x'));
    expect(readAttachmentCache(dir, 'c1').state).toBe('corrupt');
  });

  it('tells missing from corrupt, and never throws', () => {
    expect(readAttachmentCache(dir, 'c1')).toEqual({ state: 'missing' });
    writeAttachmentCache(dir, record);
    const file = attachmentCachePath(dir, 'c1');
    const cases: [string, string][] = [
      ['{"kind":"multinetAttachmentsV1","check', 'JSON'],
      ['{"kind":"other"}', 'unknown kind'],
      [JSON.stringify({ kind: 'multinetAttachmentsV1', checksum: '0', record: JSON.stringify(record) }), 'checksum mismatch'],
      ['', 'JSON'],
    ];
    for (const [text] of cases) {
      writeFileSync(file, text);
      expect(readAttachmentCache(dir, 'c1').state).toBe('corrupt');
    }
  });

  it('refuses another container\'s record under this name', () => {
    writeAttachmentCache(dir, { ...record, containerId: 'c2' });
    rmSync(attachmentCachePath(dir, 'c1'), { force: true });
    const other = attachmentCachePath(dir, 'c2');
    writeFileSync(attachmentCachePath(dir, 'c1'), readFileSync(other));
    expect(readAttachmentCache(dir, 'c1')).toMatchObject({ state: 'corrupt', reason: "not this container's record" });
  });

  it('deletes, also twice', () => {
    writeAttachmentCache(dir, record);
    deleteAttachmentCache(dir, 'c1');
    deleteAttachmentCache(dir, 'c1');
    expect(listAttachmentCaches(dir)).toEqual([]);
  });
});
