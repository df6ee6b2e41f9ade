// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The drivers that bind a VF for DPDK: such a VF has no kernel netdev to move. */
export const USERSPACE_DRIVERS: readonly string[] = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];

/**
 * Where the plugin reads sysfs. An option of {@link createSriov}, never a configuration key: a
 * network definition that could point the plugin at a tree of its own could make any host link
 * look like a VF and have it moved into a pod (the node's uplink, say). Tests pass a fake tree.
 */
export interface SysfsOptions {
  /** The sysfs mount point. Default `/sys`. */
  readonly sysfsRoot?: string;
}

/** What sysfs tells about a VF. */
export interface VfLocation {
  /** The VF's PCI address. */
  readonly deviceID: string;
  /** The PF's PCI address and netdev name. */
  readonly pfPci: string;
  readonly pfName: string;
  /** The VF number on the PF (`virtfnN`). */
  readonly vfIndex: number;
  /** The driver bound to the VF (`iavf`, `vfio-pci`), `''` when none. */
  readonly driver: string;
  /** The VF's netdev, undefined when it has none (DPDK, or no driver). */
  readonly netdev: string | undefined;
  /** Bound to one of {@link USERSPACE_DRIVERS}. */
  readonly dpdk: boolean;
}

const root = (options: SysfsOptions): string => options.sysfsRoot ?? '/sys';

/** `/sys/bus/pci/devices/<id>` under the root. */
export function pciDevicePath(id: string, options: SysfsOptions = {}): string {
  return join(root(options), 'bus/pci/devices', id);
}

/** The first entry of a device's `net` folder, as sriov-cni's GetVFLinkNames. */
function netdevOf(device: string): string | undefined {
  try {
    return readdirSync(join(device, 'net')).sort()[0];
  } catch {
    return undefined;
  }
}

/**
 * Find the VF's PF (through `physfn`), its number (the PF's `virtfnN` that points back at it),
 * its driver and its netdev. A device that is not a VF, or a PF without a netdev, is an error
 * naming the PCI address.
 */
export function locateVf(deviceID: string, options: SysfsOptions = {}): VfLocation {
  const device = pciDevicePath(deviceID, options);
  if (!existsSync(device)) throw new Error(`VF pci address ${deviceID} not found: ${device} does not exist`);
  let pfDevice: string;
  try {
    pfDevice = realpathSync(join(device, 'physfn'));
  } catch {
    throw new Error(`${deviceID} is not an SR-IOV VF: it has no physfn`);
  }
  const pfPci = basename(pfDevice);
  const pfName = netdevOf(pfDevice);
  if (pfName === undefined) throw new Error(`the PF ${pfPci} of VF ${deviceID} has no netdev`);
  const self = realpathSync(device);
  let vfIndex = -1;
  for (const entry of readdirSync(pfDevice)) {
    const match = /^virtfn(\d+)$/.exec(entry);
    if (!match) continue;
    try {
      if (realpathSync(join(pfDevice, entry)) === self) {
        vfIndex = Number(match[1]);
        break;
      }
    } catch {
      // A dangling virtfn link is not ours.
    }
  }
  if (vfIndex < 0) throw new Error(`VF ${deviceID} is not listed by its PF ${pfPci} (no virtfnN points at it)`);
  let driver = '';
  try {
    driver = basename(readlinkSync(join(device, 'driver')));
  } catch {
    driver = '';
  }
  const dpdk = USERSPACE_DRIVERS.includes(driver);
  return { deviceID, pfPci, pfName, vfIndex, driver, netdev: dpdk ? undefined : netdevOf(device), dpdk };
}
