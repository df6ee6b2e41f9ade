// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLink, temporaryLinkName } from '@cni/link';
import { ipamTypeOf } from '@cni/spec';

/**
 * DEL: release the lease, then delete the link. Reads the configuration as plain JSON: upstream's
 * DEL re-runs loadConf and fails when the master is gone, which leaves the lease behind; here a
 * master that vanished since ADD does not keep DEL from cleaning up. Idempotent: no namespace, a
 * namespace already gone and a link already gone all succeed (kubernetes/kubernetes#43014).
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
  // Also the link of an ADD killed before its rename, under its temporary name.
  await deleteSandboxLink(request.netns, request.ifName, { leftover: temporaryLinkName('vl', `${request.containerId}/${request.ifName}`) });
}
