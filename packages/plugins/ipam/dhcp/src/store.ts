// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the daemon keeps its leases unless `-statedir` says otherwise. */
export const DEFAULT_STATE_DIR = '/var/lib/cni/dhcp';

/** One attachment's lease as kept on disk, enough to resume it after a restart. */
export interface StoredLease {
  readonly version: 1;
  readonly containerId: string;
  /** CNI_NETNS as the plugin gave it (without the daemon's host prefix). */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS pairs and the network configuration of the ADD. */
  readonly args: Readonly<Record<string, string>>;
  readonly conf: Readonly<Record<string, unknown>>;
  /** The ACK (base64), its arrival (epoch ms), and whether it was lost at expiry. */
  readonly ack: string;
  readonly boundAt: number;
  readonly lost: boolean;
}

/** The attachment key: one lease per container and interface. */
export function leaseKey(containerId: string, ifName: string): string {
  return `${containerId}/${ifName}`;
}

/** The state files of a folder, one JSON file per attachment, written atomically. */
export class LeaseStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  #file(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  /** Write (or replace) a lease. */
  save(lease: StoredLease): void {
    const file = this.#file(leaseKey(lease.containerId, lease.ifName));
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify(lease), { mode: 0o600 });
    renameSync(temporary, file);
  }

  /** Forget a lease; one already gone is fine. */
  remove(containerId: string, ifName: string): void {
    rmSync(this.#file(leaseKey(containerId, ifName)), { force: true });
  }

  /** Every lease kept; unreadable files are skipped (and named in `skipped`). */
  list(): { leases: StoredLease[]; skipped: string[] } {
    const leases: StoredLease[] = [];
    const skipped: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const value = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as StoredLease;
        if (value.version === 1 && typeof value.containerId === 'string' && typeof value.ack === 'string') leases.push(value);
        else skipped.push(name);
      } catch {
        skipped.push(name);
      }
    }
    return { leases, skipped };
  }
}
