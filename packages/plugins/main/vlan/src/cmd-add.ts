// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAddFor } from '@cni/ipam';
import { UndoStack, type AddRequest } from '@cni/skel';
import type { Result } from '@cni/spec';
import { createOnMaster, openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * ADD: an 802.1Q link on the master inside the container as CNI_IFNAME, with the IPAM plugin's
 * addresses and routes; the result's DNS is the configuration's, as upstream. A failure after the
 * link exists releases the lease and deletes the link before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    await using undo = new UndoStack();
    const iface = await createOnMaster({ request, conf, container, prefix: 'vl', link: { kind: 'vlan', vlanId: conf.vlanId }, what: `vlan ${conf.vlanId}` });
    undo.defer(() => container.link.del({ name: request.ifName }));
    const result = await ipamAddFor(request, iface, undo);
    await configureIface(request.ifName, result, { netns: request.netns });
    if (conf.dns !== undefined) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
