// SPDX-License-Identifier: Apache-2.0
import { definePlugin, type CniPlugin, type GcRequest, type StatusRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, ipamTypeOf } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import type { SysfsOptions } from './sysfs.ts';

/** Options of {@link createHostDevice}. */
export interface HostDeviceOptions extends SysfsOptions {}

/** STATUS and GC go to the IPAM plugin; the plugin keeps no host-side state of its own. */
async function forwardToIpam(request: StatusRequest | GcRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

/**
 * A host-device plugin reading sysfs under `options.sysfsRoot` (default `/sys`): tests give it a
 * fake tree of PCI, auxiliary-bus and DPDK-bound devices.
 */
export function createHostDevice(options: HostDeviceOptions = {}): CniPlugin {
  return definePlugin({
    name: 'host-device',
    versions: ALL_SPEC_VERSIONS,
    add: (request) => cmdAdd(request, options),
    del: (request) => cmdDel(request, options),
    check: (request) => cmdCheck(request, options),
    status: forwardToIpam,
    gc: forwardToIpam,
  });
}

/**
 * The host-device plugin: moves an existing host link (by `device`, `hwaddr`, `kernelpath`,
 * `pciBusID` or `runtimeConfig.deviceID`) into the container as CNI_IFNAME, and back out under
 * its original name on DEL. Keys and behaviour: docs/plugins/main/host-device.md.
 */
export const hostDevice: CniPlugin = createHostDevice();
