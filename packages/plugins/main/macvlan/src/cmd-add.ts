// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAddFor } from '@cni/ipam';
import { writeSysctl } from '@cni/netns';
import { UndoStack, type AddRequest } from '@cni/skel';
import type { Result, ResultV100 } from '@cni/spec';
import { createOnMaster, messageOf, openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * ADD: a macvlan on the master, inside the container as CNI_IFNAME; with IPAM, its addresses and
 * routes, else just up. The result's DNS is the configuration's (upstream drops IPAM's). A failure
 * after the link exists removes the link and releases the lease before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    await using undo = new UndoStack();
    const iface = await createOnMaster({
      request,
      conf,
      container,
      prefix: 'mv',
      link: {
        kind: 'macvlan',
        mode: conf.mode,
        ...(conf.mac === undefined ? {} : { mac: conf.mac }),
        ...(conf.bcqueuelen > 0 ? { bcQueueLen: conf.bcqueuelen } : {}),
      },
    });
    undo.defer(() => container.link.del({ name: request.ifName }));
    let result: ResultV100;
    if (conf.ipamType !== '') {
      result = await ipamAddFor(request, iface, undo);
      try {
        writeSysctl(`net/ipv6/conf/${request.ifName}/ndisc_notify`, '1', { netns: request.netns });
      } catch {
        // Upstream ignores it too: IPv6 may be off in the container.
      }
      await configureIface(request.ifName, result, { netns: request.netns, arpNotify: true });
    } else {
      result = { cniVersion: '1.1.0', interfaces: [iface] };
      try {
        await container.link.setUp({ name: request.ifName });
      } catch (error) {
        throw new Error(`failed to set "${request.ifName}" UP: ${messageOf(error)}`, { cause: error });
      }
    }
    if (conf.dns !== undefined) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
