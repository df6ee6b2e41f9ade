// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where device plugins write device-info files (Device Information Specification, "dp" producer). */
export const DEFAULT_DEVICE_INFO_DIR = '/var/run/k8s.cni.cncf.io/devinfo/dp';

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/**
 * The `device-info` of an attachment's device for its network-status entry: the device plugin's
 * file `<resource with "/" as "-">-<deviceID>-device.json` when there is one, else, for a PCI address,
 * the minimal `{ type: "pci", version: "1.1.0", pci: { "pci-address" } }` Multus reports; undefined
 * otherwise.
 */
export function readDeviceInfo(resourceName: string, deviceId: string, dir = DEFAULT_DEVICE_INFO_DIR): Record<string, unknown> | undefined {
  const file = join(dir, `${resourceName.replaceAll('/', '-')}-${deviceId}-device.json`);
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof info === 'object' && info !== null && !Array.isArray(info)) return info as Record<string, unknown>;
  } catch {
    // No file (or an unreadable one): fall back to what the address says.
  }
  return PCI.test(deviceId) ? { type: 'pci', version: '1.1.0', pci: { 'pci-address': deviceId } } : undefined;
}
