// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLink, temporaryLinkName } from '@cni/link';
import { ipamTypeOf } from '@cni/spec';

/**
 * DEL: release the lease (when the configuration has IPAM: a chained ipvlan has none), then
 * delete the link. Reads the configuration as plain JSON, so a master or default route that
 * vanished since ADD does not keep DEL from cleaning up. Idempotent: no namespace, a namespace
 * already gone and a link already gone all succeed (kubernetes/kubernetes#43014).
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
  // Also the link of an ADD killed before its rename, under its temporary name.
  await deleteSandboxLink(request.netns, request.ifName, { leftover: temporaryLinkName('ipv', `${request.containerId}/${request.ifName}`) });
}
