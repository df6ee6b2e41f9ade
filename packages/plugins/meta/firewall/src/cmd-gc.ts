// SPDX-License-Identifier: Apache-2.0
import type { GcRequest } from '@cni/skel';
import type { GcAttachment } from '@cni/spec';
import { IptablesFirewall } from './iptables-backend.ts';
import { loadConf } from './net-conf.ts';

/**
 * GC (beyond upstream, which has none): the iptables rules of this network's attachments not in
 * `cni.dev/valid-attachments`, found through the owner records ADD writes. firewalld's zone
 * sources name no attachment and are left to DEL.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'] ?? [];
  const keep = new Set((Array.isArray(list) ? (list as GcAttachment[]) : []).map((attachment) => `${attachment.containerID}/${attachment.ifname}`));
  const removed = await new IptablesFirewall().gc(conf.name, keep);
  request.log.debug('firewall gc', { removed });
}
