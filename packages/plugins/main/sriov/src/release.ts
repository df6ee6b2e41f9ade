// SPDX-License-Identifier: Apache-2.0
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf, openSandboxForDel } from '@cni/link';
import { moveVfOut, restoreOnHost } from './netdev.ts';
import type { SriovOptions } from './options.ts';
import type { DataDir, SriovState } from './state.ts';
import { pciDevicePath } from './sysfs.ts';
import { applySteps, netlinkVfControl } from './vf-control.ts';

/**
 * Undo one attachment, as DEL and GC do: the VF netdev back to the host under its own name (or,
 * when the namespace is gone and the kernel already handed it back, renamed where it landed),
 * then the PF-side settings ADD changed set back to what they were, then the allocation and the
 * state dropped. The VF lock is the caller's.
 */
export async function releaseVf(state: SriovState, data: DataDir, options: SriovOptions): Promise<void> {
  const original = { name: state.hostIfName ?? '', ...(state.hostMac ? { mac: state.hostMac } : {}), ...(state.hostMtu ? { mtu: state.hostMtu } : {}) };
  if (!state.dpdk && state.hostIfName) {
    const container = await openSandboxForDel(state.netns);
    let moved = false;
    if (container) {
      try {
        moved = await moveVfOut(container, state.ifName, original);
      } catch (error) {
        throw new Error(`failed to move VF netdev ${state.ifName} back to the host as ${state.hostIfName}: ${messageOf(error)}`, { cause: error });
      } finally {
        container.close();
      }
    }
    if (!moved) {
      // The namespace (or the link in it) is gone: a physical VF came back on its own.
      let current: string | undefined;
      try {
        current = readdirSync(join(pciDevicePath(state.deviceID, options), 'net')).sort()[0];
      } catch {
        current = undefined;
      }
      if (current !== undefined) await restoreOnHost(current, original).catch(() => undefined);
    }
  }
  const control = options.vfControl ?? netlinkVfControl;
  try {
    await applySteps(control, state.pfName, state.vfIndex, state.original);
  } catch (error) {
    // The VF (or its PF) is gone: nothing left to restore.
    if (!/not found|No such device|does not exist/i.test(messageOf(error))) throw error;
  }
  data.release(state.deviceID, { containerId: state.containerId, ifName: state.ifName });
  data.removeState(state.containerId, state.ifName);
}
