// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLinkByNameAddr, teardownIpMasq, teardownMacSpoofCheck } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * DEL: the container link (its host end and bridge port go with it), IPAM DEL, the spoof-check
 * chains, the masquerade rules. Idempotent; no netns or a netns already gone is success. There
 * upstream runs only IPAM DEL and leaks the rules; here the attachment's rules, found by their
 * tags, are removed as well. The bridge is never deleted.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  const deleted = await deleteSandboxLinkByNameAddr(request.netns, request.ifName);
  const addresses = deleted ?? [];
  if (conf.isLayer3) await request.delegate(conf.ipam!.type);
  if (conf.macspoofchk) {
    // As upstream: a spoof-check teardown that fails (no nft here) is reported, not fatal to DEL.
    await teardownMacSpoofCheck({ containerId: request.containerId, ifName: request.ifName }).catch((error: unknown) =>
      request.log.debug(`failed to remove the spoof check: ${(error as Error).message}`),
    );
  }
  if (conf.isLayer3 && conf.ipMasq && (addresses.length > 0 || deleted === undefined)) {
    await teardownIpMasq({ network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses });
  }
}
