// SPDX-License-Identifier: Apache-2.0
import { parseIp } from '@cni/ip';
import { LinkNotFoundError, type Netlink } from '@cni/netlink';
import { teardownIpMasq, teardownMacSpoofCheck } from '@cni/netfilter';
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
 * DEL: the container link (its host end and bridge port go with it), IPAM DEL, the spoof-check
 * chains, the masquerade rules. Idempotent; no netns or a netns already gone is success. There
 * upstream runs only IPAM DEL and leaks the rules; here the attachment's rules, found by their
 * tags, are removed as well. The bridge is never deleted.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  const container = await openSandboxForDel(request.netns);
  let addresses: string[] = [];
  if (container) {
    try {
      addresses = await deleteLinkByNameAddr(container, request.ifName);
    } finally {
      container.close();
    }
  }
  if (conf.isLayer3) await request.delegate(conf.ipam!.type);
  if (conf.macspoofchk) {
    // As upstream: a spoof-check teardown that fails (no nft here) is reported, not fatal to DEL.
    await teardownMacSpoofCheck({ containerId: request.containerId, ifName: request.ifName }).catch((error: unknown) =>
      request.log.debug(`failed to remove the spoof check: ${(error as Error).message}`),
    );
  }
  if (conf.isLayer3 && conf.ipMasq && (addresses.length > 0 || !container)) {
    await teardownIpMasq({ network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses });
  }
}
