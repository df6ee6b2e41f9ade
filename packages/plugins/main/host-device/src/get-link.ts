// SPDX-License-Identifier: Apache-2.0
import type { Link, Netlink } from '@cni/netlink';
import { isLinkGone, messageOf } from '@cni/link';
import type { HostDeviceNetConf } from './net-conf.ts';
import { linkNameFromAuxiliary, linkNameFromKernelPath, linkNameFromPci, type SysfsOptions } from './sysfs.ts';

async function byName(host: Netlink, name: string): Promise<Link> {
  try {
    return await host.link.get({ name });
  } catch (error) {
    if (isLinkGone(error)) throw new Error(`link "${name}" not found`, { cause: error });
    throw error;
  }
}

/**
 * The host link the configuration selects, in upstream's order of precedence: `device`, `hwaddr`,
 * `kernelpath`, the PCI device, the auxiliary-bus device.
 */
export async function getLink(host: Netlink, conf: HostDeviceNetConf, options: SysfsOptions = {}): Promise<Link> {
  try {
    if (conf.device !== '') return await byName(host, conf.device);
    if (conf.hwaddr !== '') {
      const found = (await host.link.list()).find((link) => link.mac === conf.hwaddr);
      if (found) return found;
      throw new Error(`no link with hardware address ${conf.hwaddr}`);
    }
    if (conf.kernelpath !== '') return await byName(host, linkNameFromKernelPath(conf.kernelpath, options));
    if (conf.pciBusID !== '') return await byName(host, linkNameFromPci(conf.pciBusID, options));
    if (conf.auxDevice !== '') return await byName(host, linkNameFromAuxiliary(conf.auxDevice, options));
    throw new Error('failed to find physical interface');
  } catch (error) {
    throw new Error(`failed to find host device: ${messageOf(error)}`, { cause: error });
  }
}
