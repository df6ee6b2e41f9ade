// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLinkByNameAddr, teardownIpMasq } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * DEL: IPAM DEL first (the lease must go even when the rest is gone), then the container link
 * (its host peer goes with it), then the masquerade rules. Idempotent; a missing netns is
 * success. Unlike upstream, which leaks the rules when the netns is already gone, the rules of
 * the attachment are then found by their tags and removed too.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request.conf);
  await request.delegate(conf.ipam.type);
  const deleted = await deleteSandboxLinkByNameAddr(request.netns, request.ifName);
  const addresses = deleted ?? [];
  if (conf.ipMasq && (addresses.length > 0 || deleted === undefined)) {
    await teardownIpMasq({ network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses });
  }
}
