// SPDX-License-Identifier: Apache-2.0
import { configureIface, withIpam } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import type { AddRequest } from '@cni/skel';
import type { InterfaceV100, Result, ResultV100 } from '@cni/spec';
import { messageOf, openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/** Create the dummy link named `ifName` straight inside the container. */
export async function createDummy(container: Netlink, ifName: string, netns: string): Promise<InterfaceV100> {
  try {
    await container.link.add({ kind: 'dummy', name: ifName });
  } catch (error) {
    throw new Error(`failed to create dummy "${ifName}": ${messageOf(error)}`, { cause: error });
  }
  const link = await container.link.get({ name: ifName });
  return { name: ifName, mac: link.mac ?? '', sandbox: netns };
}

/**
 * ADD: a dummy link inside the container as CNI_IFNAME with the IPAM plugin's addresses and
 * routes; the result keeps IPAM's DNS, as upstream. A failure after the link exists releases the
 * lease and deletes the link before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    const iface = await createDummy(container, request.ifName, request.netns);
    try {
      return await withIpam(request, async (ipamResult) => {
        const result: ResultV100 = {
          ...ipamResult,
          cniVersion: '1.1.0',
          interfaces: [iface],
          // All addresses apply to the container's dummy interface.
          ips: (ipamResult.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
        };
        await configureIface(request.ifName, result, { netns: request.netns });
        return result;
      });
    } catch (error) {
      // Delete the link to avoid a link leak in the container.
      await container.link.del({ name: request.ifName }).catch(() => undefined);
      throw error;
    }
  } finally {
    container.close();
  }
}
