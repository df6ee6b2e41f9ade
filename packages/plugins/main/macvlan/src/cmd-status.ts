// SPDX-License-Identifier: Apache-2.0
import type { GcRequest, StatusRequest } from '@cni/skel';
import { ipamTypeOf } from '@cni/spec';

/** STATUS: the IPAM plugin's, as upstream; an L2-only macvlan is always ready. */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

/**
 * GC, beyond upstream: forwarded to the IPAM plugin, which releases the leases of attachments not
 * in `cni.dev/valid-attachments`. A macvlan keeps nothing on the host: its link lives and dies with
 * the container's namespace, so there is no host state of its own to collect.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}
