// SPDX-License-Identifier: Apache-2.0
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, decodeConfig, parseMacAddress, type NetConf } from '@cni/spec';
import { classifyDeviceId, hasDpdkDriver, type SysfsOptions } from './sysfs.ts';

/** The host-device configuration, validated, with `runtimeConfig.deviceID` applied. */
export interface HostDeviceNetConf extends NetConf {
  /** The host link by name. */
  device: string;
  /** The host link by MAC, canonical (lowercase, colons), `''` when not given. */
  hwaddr: string;
  /** The device's sysfs path, `/sys/devices/...`. */
  kernelpath: string;
  /** The PCI address (`0000:3b:00.1`); set from `runtimeConfig.deviceID` when that is a PCI device. */
  pciBusID: string;
  /** The auxiliary-bus device from `runtimeConfig.deviceID` (`mlx5_core.sf.4`), `''` otherwise. */
  auxDevice: string;
  /** The PCI device is bound to a userspace (DPDK) driver: nothing is moved. */
  dpdkMode: boolean;
  /** The IPAM plugin, `''` without one. */
  ipamType: string;
}

/**
 * Read the configuration as upstream's `loadConf`: the keys' types, `runtimeConfig.deviceID`
 * (a PCI or auxiliary-bus device, which replaces `pciBusID`), at least one selector, and whether
 * the PCI device is bound to a DPDK driver (read from sysfs).
 */
export function loadConf(request: Pick<PluginRequest, 'conf'>, options: SysfsOptions = {}): HostDeviceNetConf {
  const conf = request.conf;
  const keys = decodeConfig(conf, (r) => ({
    device: r.optString('device') ?? '',
    hwaddrText: r.optString('hwaddr') ?? '',
    kernelpath: r.optString('kernelpath') ?? '',
    pciBusID: r.optString('pciBusID') ?? '',
    deviceId: r.optObject('runtimeConfig')?.optString('deviceID') ?? '',
    ipamType: r.optObject('ipam')?.optString('type') ?? '',
  }));
  const { device, hwaddrText, kernelpath, deviceId } = keys;
  let { pciBusID } = keys;
  let auxDevice = '';
  if (deviceId !== '') {
    const found = classifyDeviceId(deviceId, options);
    if ('pciBusID' in found) pciBusID = found.pciBusID;
    else {
      pciBusID = '';
      auxDevice = found.auxDevice;
    }
  }
  if (device === '' && hwaddrText === '' && kernelpath === '' && pciBusID === '' && auxDevice === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'specify either "device", "hwaddr", "kernelpath" or "pciBusID"');
  }
  return {
    ...conf,
    device,
    hwaddr: hwaddrText === '' ? '' : parseMacAddress(hwaddrText, 'hwaddr'),
    kernelpath,
    pciBusID,
    auxDevice,
    dpdkMode: pciBusID !== '' && hasDpdkDriver(pciBusID, options),
    ipamType: keys.ipamType,
  };
}
