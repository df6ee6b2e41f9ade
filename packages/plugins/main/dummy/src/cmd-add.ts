// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAddFor } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import { UndoStack, type AddRequest } from '@cni/skel';
import type { InterfaceV100, Result } from '@cni/spec';
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
    await using undo = new UndoStack();
    const iface = await createDummy(container, request.ifName, request.netns);
    undo.defer(() => container.link.del({ name: request.ifName }));
    // The result keeps IPAM's DNS, as upstream's dummy.
    const result = await ipamAddFor(request, iface, undo, { keepDns: true });
    await configureIface(request.ifName, result, { netns: request.netns });
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
