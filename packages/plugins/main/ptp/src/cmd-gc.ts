// SPDX-License-Identifier: Apache-2.0
import { validAttachments, type GcRequest } from '@cni/skel';
import { gcHostVeths, gcIpMasq, openHost } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * GC (beyond upstream, which has none): forwarded to the IPAM plugin, which releases the leases
 * of attachments not in `cni.dev/valid-attachments`; then, for those attachments, this network's
 * masquerade rules (both backends) and host veths left behind by an ADD whose DEL never came.
 * Every step runs; the errors are reported together.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const valid = validAttachments(conf);
  const errors: unknown[] = [];
  await request.delegate(conf.ipam.type).catch((error: unknown) => errors.push(error));
  await gcIpMasq(
    conf.name,
    valid.map((attachment) => ({ containerId: attachment.containerID, ifName: attachment.ifname })),
  ).catch((error: unknown) => errors.push(error));
  const host = await openHost();
  try {
    await gcHostVeths(host, 'ptp', conf.name, valid).catch((error: unknown) => errors.push(error));
  } finally {
    host.close();
  }
  if (errors.length > 0) throw errors[0];
}
