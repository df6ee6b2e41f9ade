// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';

/** The drivers that bind a PCI network device for DPDK: such a device has no kernel link to move. */
export const USERSPACE_DRIVERS: readonly string[] = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];

/** Where the plugin reads sysfs; `/sys` on a node, a fake tree in tests. */
export interface SysfsOptions {
  /** The sysfs mount point. Default `/sys`. */
  readonly sysfsRoot?: string;
}

const root = (options: SysfsOptions): string => options.sysfsRoot ?? '/sys';

/** `/sys/bus/pci/devices/<id>` under the root. */
export function pciDevicePath(id: string, options: SysfsOptions = {}): string {
  return join(root(options), 'bus/pci/devices', id);
}

/** `/sys/bus/auxiliary/devices/<id>` under the root. */
export function auxiliaryDevicePath(id: string, options: SysfsOptions = {}): string {
  return join(root(options), 'bus/auxiliary/devices', id);
}

/**
 * Sort `runtimeConfig.deviceID` as upstream's `handleDeviceID`: a PCI address when
 * `/sys/bus/pci/devices/<id>` exists, else an auxiliary-bus device, else an error.
 */
export function classifyDeviceId(id: string, options: SysfsOptions = {}): { pciBusID: string } | { auxDevice: string } {
  if (existsSync(pciDevicePath(id, options))) return { pciBusID: id };
  if (existsSync(auxiliaryDevicePath(id, options))) return { auxDevice: id };
  throw new Error(`runtime config DeviceID ${id} not found or unsupported`);
}

/** True when the PCI device's driver is one of {@link USERSPACE_DRIVERS} (upstream's `hasDpdkDriver`). */
export function hasDpdkDriver(pciBusID: string, options: SysfsOptions = {}): boolean {
  const link = join(pciDevicePath(pciBusID, options), 'driver');
  let driver: string;
  try {
    driver = realpathSync(link);
  } catch (error) {
    throw new Error(`error with host device: lstat ${link}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`, { cause: error });
  }
  return USERSPACE_DRIVERS.includes(basename(driver));
}

/** The first entry of a sysfs `net` folder: the name of the device's link (Go's ReadDir is sorted). */
function linkNameFromPath(path: string): string {
  let entries: string[];
  try {
    entries = readdirSync(path).sort();
  } catch (error) {
    throw new Error(`failed to read directory ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (entries.length === 0) throw new Error(`failed to find network device in path ${path}`);
  return entries[0]!;
}

/**
 * The link name behind a `kernelpath` (`/sys/devices/...`, which must be absolute and under
 * `/sys/devices/`): the first entry of its `net` folder.
 */
export function linkNameFromKernelPath(kernelpath: string, options: SysfsOptions = {}): string {
  if (!isAbsolute(kernelpath) || !kernelpath.startsWith('/sys/devices/')) {
    throw new Error(`kernel device path "${kernelpath}" must be absolute and begin with /sys/devices/`);
  }
  return linkNameFromPath(join(root(options), kernelpath.slice('/sys'.length), 'net'));
}

/** The link name of a PCI device: `<dev>/net`, or `<dev>/virtio*` `/net` for virtio devices. */
export function linkNameFromPci(pciBusID: string, options: SysfsOptions = {}): string {
  const device = pciDevicePath(pciBusID, options);
  let netDir = join(device, 'net');
  if (!existsSync(netDir)) {
    let virtio: string | undefined;
    try {
      virtio = readdirSync(device).sort().find((entry) => entry.startsWith('virtio') && existsSync(join(device, entry, 'net')));
    } catch {
      virtio = undefined;
    }
    if (virtio === undefined) throw new Error(`no net directory under pci device ${pciBusID}`);
    netDir = join(device, virtio, 'net');
  }
  return linkNameFromPath(netDir);
}

/** The link name of an auxiliary-bus device: the first entry of its `net` folder. */
export function linkNameFromAuxiliary(auxDevice: string, options: SysfsOptions = {}): string {
  return linkNameFromPath(join(auxiliaryDevicePath(auxDevice, options), 'net'));
}
