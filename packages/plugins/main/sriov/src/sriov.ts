// SPDX-License-Identifier: Apache-2.0
import { definePlugin, type CniPlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc, cmdStatus } from './cmd-status.ts';
import type { SriovOptions } from './options.ts';

/**
 * An sriov plugin reading sysfs under `options.sysfsRoot` and changing VFs through
 * `options.vfControl`: tests give it a fake PCI tree and, on a kernel without an SR-IOV driver,
 * a VF step they can observe.
 */
export function createSriov(options: SriovOptions = {}): CniPlugin {
  return definePlugin({
    name: 'sriov',
    versions: ALL_SPEC_VERSIONS,
    add: (request) => cmdAdd(request, options),
    del: (request) => cmdDel(request, options),
    check: (request) => cmdCheck(request, options),
    gc: (request) => cmdGc(request, options),
    status: cmdStatus,
  });
}

/**
 * The sriov plugin: gives a pod an SR-IOV virtual function (`deviceID`, its PCI address),
 * configured through its PF (MAC, VLAN with QoS and 802.1ad, rates, spoofchk, trust, link state)
 * and moved in as CNI_IFNAME, or left to a DPDK driver; DEL restores it exactly. Keys and
 * behaviour: docs/plugins/main/sriov.md.
 */
export const sriov: CniPlugin = createSriov();
