// SPDX-License-Identifier: Apache-2.0
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomHex } from '@cni/sys';

/** The `kind` of multinet's cache records; a new layout gets a new kind. */
export const ATTACHMENT_CACHE_KIND = 'multinetAttachmentsV1';

/** One attachment of a pod as a DEL needs it again. */
export interface CachedAttachment {
  /** The network as the status names it (`namespace/name` for NADs). */
  network: string;
  /** CNI_IFNAME of this attachment. */
  ifName: string;
  /** The configuration list's JSON, as it was run. */
  config: string;
  /** CNI_ARGS pairs. */
  args: [string, string][];
  /** The capability arguments (its runtimeConfig). */
  capabilityArgs: Record<string, unknown>;
  /** True for the cluster default network. */
  isDefault: boolean;
}

/** What multinet keeps per container. */
export interface AttachmentRecord {
  containerId: string;
  netns: string;
  ifName: string;
  pod?: { namespace: string; name: string; uid?: string };
  /** In the order they are added; DEL goes backwards. */
  attachments: CachedAttachment[];
}

/** The file of a container's record. */
export function attachmentCachePath(cniDir: string, containerId: string): string {
  return join(cniDir, 'attachments', containerId);
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * The record's checksum: 64-bit FNV-1a over its UTF-8 bytes. It guards against a file edited or
 * damaged after the atomic write, not against an adversary, and costs nothing to load (sha256 from
 * node:crypto cost 6 to 9 ms of every ADD and DEL, in loading node:crypto alone).
 */
function checksum(body: string): string {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(body, 'utf8')) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  return `fnv1a64:${hash.toString(16).padStart(16, '0')}`;
}

/** Whether `stored` is the checksum of `body`: ours, or the sha256 of records written by 0.1.0. */
function checksumMatches(stored: unknown, body: string): boolean {
  if (typeof stored !== 'string') return false;
  if (/^[0-9a-f]{64}$/u.test(stored)) return process.getBuiltinModule('node:crypto').createHash('sha256').update(body).digest('hex') === stored;
  return stored === checksum(body);
}

/**
 * Write the record crash-safely: to a temporary file in the same folder, flushed to disk,
 * renamed over the old one, and the folder flushed, so a crash leaves the old record or the
 * new one, never half of one. The record carries a checksum of its body.
 */
export function writeAttachmentCache(cniDir: string, record: AttachmentRecord): void {
  const dir = join(cniDir, 'attachments');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body = JSON.stringify(record);
  const text = JSON.stringify({ kind: ATTACHMENT_CACHE_KIND, checksum: checksum(body), record: body });
  const file = attachmentCachePath(cniDir, record.containerId);
  const temp = join(dir, `.${record.containerId}.${randomHex(4)}`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // A folder that cannot be flushed (some filesystems) still has the renamed file.
  }
}

/** What reading a cache found: the record, nothing, or a file that is not a valid record. */
export type CacheRead = { state: 'ok'; record: AttachmentRecord } | { state: 'missing' } | { state: 'corrupt'; reason: string };

/** Read a container's record; a truncated, edited or foreign file is `corrupt`, never an exception. */
export function readAttachmentCache(cniDir: string, containerId: string): CacheRead {
  let text: string;
  try {
    text = readFileSync(attachmentCachePath(cniDir, containerId), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'corrupt', reason: (error as Error).message };
  }
  try {
    const outer = JSON.parse(text) as { kind?: unknown; checksum?: unknown; record?: unknown };
    if (outer.kind !== ATTACHMENT_CACHE_KIND) return { state: 'corrupt', reason: `unknown kind ${JSON.stringify(outer.kind)}` };
    if (typeof outer.record !== 'string' || !checksumMatches(outer.checksum, outer.record)) return { state: 'corrupt', reason: 'checksum mismatch' };
    const record = JSON.parse(outer.record) as AttachmentRecord;
    if (record.containerId !== containerId || !Array.isArray(record.attachments)) return { state: 'corrupt', reason: 'not this container\'s record' };
    return { state: 'ok', record };
  } catch (error) {
    return { state: 'corrupt', reason: (error as Error).message };
  }
}

/** Remove a container's record; one already gone is fine. */
export function deleteAttachmentCache(cniDir: string, containerId: string): void {
  rmSync(attachmentCachePath(cniDir, containerId), { force: true });
}

/** The container IDs that have a record (for GC). */
export function listAttachmentCaches(cniDir: string): string[] {
  try {
    return readdirSync(join(cniDir, 'attachments')).filter((name) => !name.startsWith('.'));
  } catch {
    return [];
  }
}
