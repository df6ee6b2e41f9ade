// SPDX-License-Identifier: Apache-2.0
import { configureIface } from '@cni/ipam';
import { openNetlink, type Netlink } from '@cni/netlink';
import { UndoStack, type AddRequest } from '@cni/skel';
import { toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import { messageOf, openSandbox } from '@cni/link';
import { getLink } from './get-link.ts';
import { moveLinkIn, moveLinkOut } from './move-link.ts';
import { loadConf } from './net-conf.ts';
import type { SysfsOptions } from './sysfs.ts';

/** Move the device back out after a failed ADD, up again if it was up before: as it was found. */
async function giveBack(container: Netlink, netns: string, ifName: string, wasUp: boolean): Promise<void> {
  try {
    const hostName = (await container.link.get({ name: ifName })).alias;
    await moveLinkOut(container, netns, ifName);
    if (wasUp && hostName) {
      const host = await openNetlink();
      try {
        await host.link.setUp({ name: hostName });
      } finally {
        host.close();
      }
    }
  } catch {
    // The ADD's own error is the one to report.
  }
}

/**
 * ADD: move the selected host link into the container as CNI_IFNAME (nothing moves for a
 * DPDK-bound PCI device), then apply IPAM's addresses and routes. A failure after the move
 * releases the lease and moves the device back out under its own name.
 */
export async function cmdAdd(request: AddRequest, options: SysfsOptions = {}): Promise<Result> {
  const conf = loadConf(request, options);
  const container = await openSandbox(request.netns);
  try {
    const result: ResultV100 = { cniVersion: '1.1.0', interfaces: [{ name: request.ifName, sandbox: request.netns }] };
    let moved = false;
    let wasUp = false;
    if (!conf.dpdkMode) {
      const host = await openNetlink();
      try {
        const hostDev = await getLink(host, conf, options);
        wasUp = hostDev.up;
        let contDev;
        try {
          contDev = await moveLinkIn(host, hostDev, container, request.netns, request.ifName);
        } catch (error) {
          throw new Error(`failed to move link ${messageOf(error)}`, { cause: error });
        }
        result.interfaces = [{ name: contDev.name, mac: contDev.mac ?? '', sandbox: request.netns }];
        moved = true;
      } finally {
        host.close();
      }
    }
    if (conf.ipamType === '') return result;

    await using undo = new UndoStack();
    // Give the device back on failure, so a failed ADD leaves nothing behind.
    if (moved) undo.defer(() => giveBack(container, request.netns, request.ifName, wasUp));
    const ipamResult = toCurrentResult(await request.delegate(conf.ipamType));
    undo.defer(() => request.delegate(conf.ipamType, undefined, { command: 'DEL' }));
    if (!ipamResult.ips || ipamResult.ips.length === 0) throw new Error('IPAM plugin returned missing IP config');
    // All addresses apply to the container interface (moved from the host).
    result.ips = ipamResult.ips.map((ip) => ({ ...ip, interface: 0 }));
    if (ipamResult.routes) result.routes = ipamResult.routes;
    if (!conf.dpdkMode) await configureIface(request.ifName, result, { netns: request.netns });
    if (conf.dns !== undefined) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
