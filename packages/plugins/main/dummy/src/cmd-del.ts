// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLink } from '@cni/link';
import { ipamTypeOf } from '@cni/spec';

/**
 * DEL: release the lease, then delete the link. Idempotent: no namespace, a namespace already
 * gone and a link already gone all succeed (kubernetes/kubernetes#43014).
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
  await deleteSandboxLink(request.netns, request.ifName);
}
