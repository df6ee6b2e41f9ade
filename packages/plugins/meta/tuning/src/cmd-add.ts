// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import type { AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, toCurrentResult, type Result } from '@cni/spec';
import { backupFile, removeBackup, restoreBackup, sysctlFile, takeBackup, writeBackup } from './backup.ts';
import { changesLink, loadConf, type LoadConfOptions } from './net-conf.ts';
import { openSandbox } from '@cni/link';

/** Fails a chained-only verb called without a previous result, as upstream does. */
export function requirePrevResult(prevResult: Result | undefined): Result {
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'required prevResult missing: tuning must be called as a chained plugin');
  return prevResult;
}

/**
 * ADD: write the sysctls and set the link attributes inside the container, after a backup of the
 * values found (link attributes, as upstream, and sysctls, beyond it). A step that fails puts back
 * everything done before it and removes the backup, so a failed ADD leaves nothing changed.
 */
export async function cmdAdd(request: AddRequest, options: LoadConfOptions = {}): Promise<Result> {
  const conf = loadConf(request, options);
  const prevResult = requirePrevResult(conf.parsedPrevResult);
  const { ifName, netns, containerId } = request;
  const nl = await openSandbox(netns);
  try {
    let link;
    try {
      link = await nl.link.get({ name: ifName });
    } catch (error) {
      if (LinkNotFoundError.isInstance(error)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `failed to get "${ifName}": link not found`, { cause: error });
      throw error;
    }
    if (conf.sysctl.length === 0 && !changesLink(conf)) return prevResult;

    const backup = takeBackup(conf, link, netns, containerId, ifName);
    const file = backupFile(conf.dataDir, containerId, ifName);
    writeBackup(file, conf.dataDir, backup);
    try {
      for (const [key, value] of conf.sysctl) writeSysctl(sysctlFile(key, ifName), value, { netns });
      const target = { name: ifName };
      if (conf.mac !== undefined) await nl.link.setMac(target, conf.mac);
      if (conf.promisc) await nl.link.setPromisc(target, true);
      if (conf.mtu !== 0) await nl.link.setMtu(target, conf.mtu);
      if (conf.allmulti !== undefined) await nl.link.setAllmulti(target, conf.allmulti);
      if (conf.txQLen !== undefined) await nl.link.setTxQueueLen(target, conf.txQLen);
    } catch (error) {
      // Undo what was done, so that a failed ADD leaves the interface as it found it.
      await restoreBackup(nl, netns, ifName, backup);
      removeBackup(file);
      throw error;
    }
  } finally {
    nl.close();
  }

  if (conf.mac === undefined) return prevResult;
  const result = toCurrentResult(prevResult);
  for (const iface of result.interfaces ?? []) if (iface.name === ifName) iface.mac = conf.mac;
  return result;
}
