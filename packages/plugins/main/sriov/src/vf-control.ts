// SPDX-License-Identifier: Apache-2.0
import { openNetlink, type VfInfo, type VfSettings } from '@cni/netlink';

/**
 * The PF-side step: read a VF's settings and change them through its PF, in the plugin's (host)
 * namespace. Behind an interface so that a host without an SR-IOV driver can run the rest of the
 * plugin and observe this step; the VM tier drives the real one against netdevsim.
 */
export interface VfControl {
  /** The VF's current settings, as `ip -d link show PF` reports them. */
  read(pfName: string, vf: number): Promise<VfInfo>;
  /** Change one group of settings (`ip link set PF vf N ...`). */
  apply(pfName: string, vf: number, settings: VfSettings): Promise<void>;
}

/** The real step: `@cni/netlink`'s `nl.vf` on a handle opened per call in the current namespace. */
export const netlinkVfControl: VfControl = {
  async read(pfName, vf) {
    const nl = await openNetlink();
    try {
      return await nl.vf.get({ name: pfName }, vf);
    } finally {
      nl.close();
    }
  },
  async apply(pfName, vf, settings) {
    const nl = await openNetlink();
    try {
      await nl.vf.set({ name: pfName }, vf, settings);
    } finally {
      nl.close();
    }
  },
};

/** The settings a configuration asks for, one group per key, in the order drivers need them. */
export type SettingStep = { key: string; settings: VfSettings };

/**
 * Apply `steps` in order (sriov-cni's: VLAN, MAC, rates, spoofchk, trust, link state), one request
 * each, so a refusal names the key the driver refused.
 */
export async function applySteps(control: VfControl, pfName: string, vf: number, steps: readonly SettingStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await control.apply(pfName, vf, step.settings);
    } catch (error) {
      throw new Error(`failed to set ${step.key} of VF ${vf} on ${pfName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
