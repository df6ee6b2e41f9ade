// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Link, Netlink } from '@cni/netlink';
import { readSysctl, sysctlPath, writeSysctl } from '@cni/netns';
import type { TuningNetConf } from './net-conf.ts';

/**
 * What ADD changed, with the values it found, as upstream's `configToRestore` (same keys, so
 * upstream's DEL can restore the link from our file), plus the sysctls (upstream never restores
 * them) and the attachment and network it belongs to, for GC.
 */
export interface Backup {
  mac?: string;
  promisc?: boolean;
  mtu?: number;
  allmulti?: boolean;
  txQLen?: number;
  /** Original sysctl values by `/proc/sys`-relative path (`net/ipv4/conf/eth0/rp_filter`). */
  sysctl?: Record<string, string>;
  network?: string;
  containerId?: string;
  ifName?: string;
}

/** The backup file of one attachment: `<dataDir>/<containerID>_<ifname>.json`, upstream's name. */
export function backupFile(dataDir: string, containerId: string, ifName: string): string {
  return join(dataDir, `${containerId}_${ifName}.json`);
}

/** The sysctl key ADD writes, as the path relative to /proc/sys (dots inside components kept). */
export function sysctlFile(key: string, ifName: string): string {
  return sysctlPath(key, { ifname: ifName }).slice('/proc/sys/'.length);
}

/** Reads the values ADD is about to change: the link's attributes and every sysctl. */
export function takeBackup(conf: TuningNetConf, link: Link, netns: string, containerId: string, ifName: string): Backup {
  const backup: Backup = { network: conf.name, containerId, ifName };
  if (conf.mac !== undefined && link.mac !== undefined) backup.mac = link.mac;
  if (conf.promisc) backup.promisc = link.promisc;
  if (conf.mtu !== 0) backup.mtu = link.mtu;
  if (conf.allmulti !== undefined) backup.allmulti = link.allmulti;
  if (conf.txQLen !== undefined) backup.txQLen = link.txQueueLen;
  if (conf.sysctl.length > 0) {
    backup.sysctl = {};
    for (const [key] of conf.sysctl) {
      const file = sysctlFile(key, ifName);
      // The first original wins when two keys name one file (`a.b` and `a/b`).
      backup.sysctl[file] ??= readSysctl(file, { netns });
    }
  }
  return backup;
}

/** Writes the backup, making dataDir when missing (owner-only, it names containers). */
export function writeBackup(file: string, dataDir: string, backup: Backup): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(backup, null, ' '), { mode: 0o600 });
}

/** The backup, or undefined when there is none or it does not parse (upstream ignores such a file too). */
export function readBackup(file: string): Backup | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Backup) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes a backup file; a missing one is fine. */
export function removeBackup(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Puts the original values back, in upstream's order (MTU, MAC, promisc, allmulti, txQLen), then the
 * sysctls (after the MTU, which resets some of them). Every step is tried; the failures are returned.
 */
export async function restoreBackup(nl: Netlink, netns: string, ifName: string, backup: Backup): Promise<string[]> {
  const failures: string[] = [];
  const step = async (what: string, action: () => unknown): Promise<void> => {
    try {
      await action();
    } catch (error) {
      failures.push(`failed to restore ${what}: ${(error as Error).message}`);
    }
  };
  const link = { name: ifName };
  if (typeof backup.mtu === 'number' && backup.mtu !== 0) await step('MTU', () => nl.link.setMtu(link, backup.mtu!));
  if (typeof backup.mac === 'string' && backup.mac !== '') await step('MAC address', () => nl.link.setMac(link, backup.mac!));
  if (typeof backup.promisc === 'boolean') await step('promiscuous mode', () => nl.link.setPromisc(link, backup.promisc!));
  if (typeof backup.allmulti === 'boolean') await step('all-multicast mode', () => nl.link.setAllmulti(link, backup.allmulti!));
  if (typeof backup.txQLen === 'number') await step('transmit queue length', () => nl.link.setTxQueueLen(link, backup.txQLen!));
  for (const [file, value] of Object.entries(backup.sysctl ?? {})) {
    await step(`sysctl "${file}"`, () => writeSysctl(file, value, { netns }));
  }
  return failures;
}
