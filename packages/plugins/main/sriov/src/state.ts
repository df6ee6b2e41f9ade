// SPDX-License-Identifier: Apache-2.0
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_EX, tryFlock } from '@cni/sys';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import type { VfSettings } from '@cni/netlink';
import type { SettingStep } from './vf-control.ts';

/**
 * What ADD changed, kept until DEL (or GC) undoes it: the VF, the PF-side settings applied and
 * the values they replaced, and the VF netdev's own name, MAC and MTU before it moved.
 */
export interface SriovState {
  readonly version: 1;
  /** The network (`name`): GC collects only its own network's attachments. */
  readonly network: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  readonly deviceID: string;
  readonly pfName: string;
  readonly vfIndex: number;
  readonly dpdk: boolean;
  /** The settings ADD applied, in order, and for each the value it replaced. */
  readonly applied: readonly SettingStep[];
  readonly original: readonly SettingStep[];
  /** The VF netdev before ADD (kernel mode). */
  readonly hostIfName?: string;
  readonly hostMac?: string;
  readonly hostMtu?: number;
  /** The MAC set on the netdev itself, when `mac` was asked for. */
  readonly netdevMac?: string;
  /** The IPAM plugin of the attachment, `''` without one. */
  readonly ipamType: string;
}

/** Reads and writes the data folder: state per attachment, allocations and locks per VF. */
export class DataDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #statePath(containerId: string, ifName: string): string {
    // The skel validated both; a "/" would still escape the folder, so refuse it here too.
    if (/[/\0]/.test(containerId) || /[/\0]/.test(ifName)) throw new Error(`invalid container id or interface name "${containerId}" "${ifName}"`);
    return join(this.dir, `${containerId}-${ifName}`);
  }

  #pciDir(): string {
    return join(this.dir, 'pci');
  }

  /** Write `data` so that a crash leaves the old file or the new one, never half of one. */
  static writeAtomic(path: string, data: string): void {
    const temp = `${path}.tmp-${process.pid}`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    const dirFd = openSync(join(path, '..'), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  saveState(state: SriovState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    DataDir.writeAtomic(this.#statePath(state.containerId, state.ifName), `${JSON.stringify(state)}\n`);
  }

  loadState(containerId: string, ifName: string): SriovState | undefined {
    let text: string;
    try {
      text = readFileSync(this.#statePath(containerId, ifName), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseState(text);
  }

  removeState(containerId: string, ifName: string): void {
    rmSync(this.#statePath(containerId, ifName), { force: true });
  }

  /** Every state file of the folder (for GC); unreadable ones are skipped. */
  listStates(): SriovState[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const states: SriovState[] = [];
    for (const name of names) {
      if (name === 'pci' || name.includes('.tmp-')) continue;
      try {
        const state = parseState(readFileSync(join(this.dir, name), 'utf8'));
        if (state) states.push(state);
      } catch {
        // Not ours (sriov-cni's cache has another shape) or being rewritten: leave it.
      }
    }
    return states;
  }

  /**
   * Take the lock of one VF, waiting up to `timeoutMs` for another request on the same VF (as
   * sriov-cni's PCI allocator); returns the release function.
   */
  async lock(deviceID: string, timeoutMs = 60_000): Promise<() => void> {
    mkdirSync(this.#pciDir(), { recursive: true, mode: 0o700 });
    const path = join(this.#pciDir(), `${deviceID}.lock`);
    const fd = openSync(path, 'a', 0o600);
    const deadline = Date.now() + timeoutMs;
    try {
      while (!tryFlock(fd, LOCK_EX)) {
        if (Date.now() > deadline) {
          throw new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `timed out waiting for the lock of VF ${deviceID} (${path})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // Closing the descriptor releases the lock.
    return () => closeSync(fd);
  }

  /** Who holds the VF, or undefined; a holder whose namespace is gone no longer counts (and is cleared). */
  allocation(deviceID: string): Allocation | undefined {
    const path = join(this.#pciDir(), deviceID);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    let holder: Allocation;
    try {
      holder = JSON.parse(text) as Allocation;
    } catch {
      // sriov-cni writes the bare netns path.
      holder = { containerId: '', ifName: '', netns: text.trim() };
    }
    if (holder.netns !== '' && !existsSync(holder.netns)) {
      rmSync(path, { force: true });
      return undefined;
    }
    return holder;
  }

  allocate(deviceID: string, holder: Allocation): void {
    mkdirSync(this.#pciDir(), { recursive: true, mode: 0o700 });
    DataDir.writeAtomic(join(this.#pciDir(), deviceID), JSON.stringify(holder));
  }

  /** Drop the allocation of the VF when `holder` has it (or anyone, when undefined). */
  release(deviceID: string, holder?: Pick<Allocation, 'containerId' | 'ifName'>): void {
    const path = join(this.#pciDir(), deviceID);
    if (holder) {
      try {
        const current = JSON.parse(readFileSync(path, 'utf8')) as Allocation;
        if (current.containerId !== holder.containerId || current.ifName !== holder.ifName) return;
      } catch {
        // Missing or foreign: nothing of ours to drop, except a bare path file, which we drop.
      }
    }
    rmSync(path, { force: true });
  }
}

/** The holder of a VF, in `<dataDir>/pci/<deviceID>`. */
export interface Allocation {
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
}

function parseState(text: string): SriovState | undefined {
  const value = JSON.parse(text) as Partial<SriovState>;
  if (value.version !== 1 || typeof value.deviceID !== 'string' || typeof value.pfName !== 'string') return undefined;
  return value as SriovState;
}

/** The settings to restore for `applied`, read from the VF before ADD; unknown originals are skipped. */
export function originalSteps(applied: readonly SettingStep[], before: import('@cni/netlink').VfInfo): SettingStep[] {
  const out: SettingStep[] = [];
  for (const step of applied) {
    const s = step.settings;
    let original: VfSettings | undefined;
    if (s.vlan) original = { vlan: { vlan: before.vlan, qos: before.qos, proto: before.vlanProto } };
    else if (s.mac) original = { mac: before.mac };
    else if (s.rate) original = { rate: { minTxRate: before.minTxRate, maxTxRate: before.maxTxRate } };
    else if (s.spoofchk !== undefined) original = before.spoofchk === undefined ? undefined : { spoofchk: before.spoofchk };
    else if (s.trust !== undefined) original = before.trust === undefined ? undefined : { trust: before.trust };
    else if (s.linkState) original = { linkState: before.linkState };
    if (original) out.push({ key: step.key, settings: original });
  }
  return out;
}
