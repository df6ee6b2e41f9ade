// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError } from '@cni/netlink';
import type { DelRequest } from '@cni/skel';
import { backupFile, readBackup, removeBackup, restoreBackup } from './backup.ts';
import { loadConf } from './net-conf.ts';
import { isNetnsGone, openSandbox } from '@cni/link';

/**
 * DEL: put the original values back from the backup (sysctls too, beyond upstream) and remove it.
 * It succeeds, as upstream's, without a backup, a namespace or the link; unlike upstream, the
 * backup goes then too, since nothing is left to restore it to.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request, { checkAllowlist: false });
  const file = backupFile(conf.dataDir, request.containerId, request.ifName);
  const backup = readBackup(file);
  if (!backup) {
    removeBackup(file);
    return;
  }
  if (request.netns === '') {
    removeBackup(file);
    return;
  }
  let nl;
  try {
    nl = await openSandbox(request.netns);
  } catch (error) {
    if (isNetnsGone((error as { cause?: unknown }).cause)) {
      removeBackup(file);
      return;
    }
    throw error;
  }
  try {
    try {
      await nl.link.get({ name: request.ifName });
    } catch (error) {
      if (!LinkNotFoundError.isInstance(error)) throw error;
      removeBackup(file);
      return;
    }
    const failures = await restoreBackup(nl, request.netns, request.ifName, backup);
    // Upstream's DEL never fails on a restore: the runtime must be able to finish its teardown.
    if (failures.length > 0) request.log.debug('tuning restore failed', { failures });
    removeBackup(file);
  } finally {
    nl.close();
  }
}
