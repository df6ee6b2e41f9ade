// SPDX-License-Identifier: Apache-2.0
import type { GcRequest } from '@cni/skel';
import type { GcAttachment } from '@cni/spec';
import { IptablesMapper } from './iptables-mapper.ts';
import { loadConf } from './net-conf.ts';
import { NftablesMapper } from './nftables-mapper.ts';

/**
 * GC (beyond upstream, which has none): the rules of this network's containers that have no
 * attachment in `cni.dev/valid-attachments`, in both backends (the backend may have changed since
 * the ADD). Chains and rules of live containers and of other networks are left alone.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'] ?? [];
  const keep = new Set((Array.isArray(list) ? (list as GcAttachment[]) : []).map((attachment) => attachment.containerID));
  const errors: unknown[] = [];
  const removed: string[] = [];
  for (const mapper of [new IptablesMapper(), new NftablesMapper()]) {
    await mapper.gc(conf.name, keep).then((ids) => removed.push(...ids), (error: unknown) => errors.push(error));
  }
  request.log.debug('portmap gc', { removed });
  if (errors.length > 0) throw errors[0];
}
