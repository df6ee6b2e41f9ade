// SPDX-License-Identifier: Apache-2.0
import { parseIp } from '@cni/ip';
import { LinkNotFoundError, type Netlink } from '@cni/netlink';
import { teardownIpMasq } from '@cni/netfilter';
import type { DelRequest } from '@cni/skel';
import { openSandboxForDel } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * Delete the container's link and return its global unicast addresses (what masquerading was set
 * up for), as upstream's `DelLinkByNameAddr`; a link already gone gives none.
 */
export async function deleteLinkByNameAddr(container: Netlink, ifName: string): Promise<string[]> {
  const link = await container.link.find({ name: ifName });
  if (!link) return [];
  const addresses = await container.address.list({ link: { index: link.index } });
  try {
    await container.link.del({ index: link.index });
  } catch (error) {
    if (!LinkNotFoundError.isInstance(error)) throw new Error(`failed to delete "${ifName}": ${(error as Error).message}`, { cause: error });
  }
  return addresses.filter((address) => parseIp(address.address).isGlobalUnicast).map((address) => address.cidr);
}

/**
 * DEL: IPAM DEL first (the lease must go even when the rest is gone), then the container link
 * (its host peer goes with it), then the masquerade rules. Idempotent; a missing netns is
 * success. Unlike upstream, which leaks the rules when the netns is already gone, the rules of
 * the attachment are then found by their tags and removed too.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request.conf);
  await request.delegate(conf.ipam.type);
  const container = await openSandboxForDel(request.netns);
  let addresses: string[] = [];
  if (container) {
    try {
      addresses = await deleteLinkByNameAddr(container, request.ifName);
    } finally {
      container.close();
    }
  }
  if (conf.ipMasq && (addresses.length > 0 || !container)) {
    await teardownIpMasq({ network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses });
  }
}
