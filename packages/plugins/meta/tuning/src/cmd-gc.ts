// SPDX-License-Identifier: Apache-2.0
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GcRequest } from '@cni/skel';
import type { GcAttachment } from '@cni/spec';
import { backupFile, readBackup, removeBackup } from './backup.ts';
import { loadConf } from './net-conf.ts';

/**
 * GC (beyond upstream, which has none): removes this network's backups of attachments not in
 * `cni.dev/valid-attachments`; their containers are gone, so there is nothing to restore. Files
 * of other networks sharing the dataDir, and upstream's files (which name no network), stay.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request, { checkAllowlist: false });
  const valid = (conf['cni.dev/valid-attachments'] as GcAttachment[] | undefined) ?? [];
  const keep = new Set(valid.map((attachment) => backupFile(conf.dataDir, attachment.containerID, attachment.ifname)));
  let names: string[];
  try {
    names = readdirSync(conf.dataDir).filter((name) => name.endsWith('.json'));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    const file = join(conf.dataDir, name);
    if (keep.has(file)) continue;
    if (readBackup(file)?.network === conf.name) removeBackup(file);
  }
}
