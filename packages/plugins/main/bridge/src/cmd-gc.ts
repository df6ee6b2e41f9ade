// SPDX-License-Identifier: Apache-2.0
import type { Netlink } from '@cni/netlink';
import { validAttachments, type GcRequest } from '@cni/skel';
import { gcHostVeths, gcIpMasq, gcMacSpoofChecks, isAttachmentOf, type MacSpoofCheckEntry, openHost, parseAttachmentAlias } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * A spoof-check entry belongs to this network when its bridge port is one of this network's
 * host veths (by their alias), or when the port is gone: such an entry guards nothing.
 */
async function ownsEntry(host: Netlink, network: string, entry: MacSpoofCheckEntry): Promise<boolean> {
  if (entry.hostIfName === undefined) return true;
  const port = await host.link.find({ name: entry.hostIfName });
  if (!port) return true;
  return isAttachmentOf(parseAttachmentAlias(port.alias, 'bridge'), network);
}

/**
 * GC (beyond upstream, which has none): IPAM GC when there is an IPAM plugin, then for every
 * attachment of this network not in `cni.dev/valid-attachments`: its masquerade rules (both
 * backends), its MAC spoof-check chains, and its host veth if the ADD's DEL never came (the
 * container end goes with it). The bridge stays. Every step runs; the first error is returned.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request);
  const valid = validAttachments(conf);
  const refs = valid.map((attachment) => ({ containerId: attachment.containerID, ifName: attachment.ifname }));
  const errors: unknown[] = [];
  if (conf.isLayer3) await request.delegate(conf.ipam!.type).catch((error: unknown) => errors.push(error));
  await gcIpMasq(conf.name, refs).catch((error: unknown) => errors.push(error));
  const host = await openHost();
  try {
    // Spoof-check entries first: their ownership is read from the host veths GC is about to remove.
    await gcMacSpoofChecks(refs, { owns: (entry) => ownsEntry(host, conf.name, entry) }).catch((error: unknown) => errors.push(error));
    await gcHostVeths(host, 'bridge', conf.name, valid).catch((error: unknown) => errors.push(error));
  } finally {
    host.close();
  }
  if (errors.length > 0) throw errors[0];
}
