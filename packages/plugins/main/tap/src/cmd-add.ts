// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAddFor } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import { UndoStack, type AddRequest } from '@cni/skel';
import type { InterfaceV100, Result, ResultV100 } from '@cni/spec';
import { messageOf, openSandbox, temporaryLinkName } from '@cni/link';
import { loadConf, type TapNetConf } from './net-conf.ts';
import { createTapWithLabel } from './selinux.ts';

/**
 * Create the tap inside the container under a temporary name, rename it to `ifName`, make it a
 * port of `bridge` when one is named, and set it up. The device goes if any step fails. The
 * temporary name comes from the container ID and `ifName`, so that the runtime's DEL after an ADD
 * killed before the rename finds the device (cmd-del), and a retried ADD replaces it.
 */
export async function createTap(conf: TapNetConf, ifName: string, netns: string, container: Netlink, containerId: string): Promise<InterfaceV100> {
  const tmpName = temporaryLinkName('tap', `${containerId}/${ifName}`);
  await container.link.del({ name: tmpName }).catch(() => undefined);
  if (conf.selinuxContext !== '') {
    createTapWithLabel(netns, conf.selinuxContext, { name: tmpName, multiQueue: conf.multiQueue, owner: conf.owner, group: conf.group });
    try {
      if (conf.mtu > 0) await container.link.setMtu({ name: tmpName }, conf.mtu);
      if (conf.mac !== undefined) await container.link.setMac({ name: tmpName }, conf.mac);
    } catch (error) {
      await container.link.del({ name: tmpName }).catch(() => undefined);
      throw error;
    }
  } else {
    try {
      // The device is made from inside the container's namespace (/dev/net/tun opened there).
      await container.link.add({
        kind: 'tap',
        name: tmpName,
        multiQueue: conf.multiQueue,
        ...(conf.owner === undefined ? {} : { owner: conf.owner }),
        ...(conf.group === undefined ? {} : { group: conf.group }),
        ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        ...(conf.mac === undefined ? {} : { mac: conf.mac }),
      });
    } catch (error) {
      await container.link.del({ name: tmpName }).catch(() => undefined);
      throw new Error(`failed to create tap: ${messageOf(error)}`, { cause: error });
    }
  }
  let name = tmpName;
  try {
    try {
      await container.link.setName({ name: tmpName }, ifName);
      name = ifName;
    } catch (error) {
      throw new Error(`failed to rename tap to "${ifName}": ${messageOf(error)}`, { cause: error });
    }
    if (conf.bridge !== '') {
      const bridge = await container.link.find({ name: conf.bridge });
      if (!bridge) throw new Error(`failed to get bridge ${conf.bridge}: link not found`);
      try {
        await container.link.setMaster({ name: ifName }, { index: bridge.index });
      } catch (error) {
        throw new Error(`failed to set tap ${ifName} as a port of bridge ${conf.bridge}: ${messageOf(error)}`, { cause: error });
      }
    }
    try {
      await container.link.setUp({ name: ifName });
    } catch (error) {
      throw new Error(`failed to set tap interface up: ${messageOf(error)}`, { cause: error });
    }
    const link = await container.link.get({ name: ifName });
    return { name: ifName, mac: link.mac ?? '', sandbox: netns };
  } catch (error) {
    await container.link.del({ name }).catch(() => undefined);
    throw error;
  }
}

/**
 * ADD: a tap inside the container as CNI_IFNAME (on the container's `bridge` when named), with IPAM's
 * addresses and routes, or up without IPAM. A failure after the device exists deletes it and
 * releases the lease.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    await using undo = new UndoStack();
    const iface = await createTap(conf, request.ifName, request.netns, container, request.containerId);
    undo.defer(() => container.link.del({ name: request.ifName }));
    let result: ResultV100 = { cniVersion: '1.1.0', interfaces: [iface] };
    if (conf.ipamType !== '') {
      result = await ipamAddFor(request, iface, undo);
      await configureIface(request.ifName, result, { netns: request.netns, arpNotify: true });
    }
    if (conf.dns !== undefined) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
