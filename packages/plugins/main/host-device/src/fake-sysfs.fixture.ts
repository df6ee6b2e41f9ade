// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** PCI addresses and the auxiliary device of {@link makeFakeSysfs}. */
export const FAKE = {
  /** A NIC on a kernel driver, its link in `net/`. */
  pci: '0000:00:1f.0',
  /** A virtio NIC: its link under `virtio3/net/`. */
  virtio: '0000:00:1f.1',
  /** A NIC bound to vfio-pci (DPDK): no link. */
  dpdk: '0000:00:1f.2',
  /** A NIC bound to igb_uio (DPDK). */
  igbUio: '0000:00:1f.3',
  /** An auxiliary-bus device (a mlx5 sub-function). */
  aux: 'mlx5_core.sf.4',
  /** The kernel path of the PCI NIC. */
  kernelpath: '/sys/devices/pci0000:00/0000:00:1f.0',
} as const;

/**
 * A sysfs tree under `root` as a node shows it for these devices, every one of them naming the
 * link `linkName` (tests point it at a veth they made). Returns `root`.
 */
export function makeFakeSysfs(root: string, linkName: string): string {
  const pci = join(root, 'bus/pci/devices');
  for (const driver of ['e1000e', 'virtio-pci', 'vfio-pci', 'igb_uio']) mkdirSync(join(root, 'bus/pci/drivers', driver), { recursive: true });
  const device = (id: string, driver: string, net?: string): void => {
    mkdirSync(join(pci, id), { recursive: true });
    symlinkSync(`../../drivers/${driver}`, join(pci, id, 'driver'));
    if (net) mkdirSync(join(pci, id, net, linkName), { recursive: true });
  };
  device(FAKE.pci, 'e1000e', 'net');
  device(FAKE.virtio, 'virtio-pci', 'virtio3/net');
  device(FAKE.dpdk, 'vfio-pci');
  device(FAKE.igbUio, 'igb_uio');
  mkdirSync(join(root, 'bus/auxiliary/devices', FAKE.aux, 'net', linkName), { recursive: true });
  mkdirSync(join(root, FAKE.kernelpath.slice('/sys'.length), 'net', linkName), { recursive: true });
  mkdirSync(join(root, 'devices/empty0/net'), { recursive: true });
  return root;
}
