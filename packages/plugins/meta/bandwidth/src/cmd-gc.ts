// SPDX-License-Identifier: Apache-2.0
import { openNetlink } from '@cni/netlink';
import type { GcRequest } from '@cni/skel';
import type { GcAttachment } from '@cni/spec';
import { loadConf } from './net-conf.ts';
import { deleteLinkIfExists, IFB_ALIAS_PREFIX } from './shaping.ts';

/**
 * GC (beyond upstream, which has none): deletes this network's ifbs (told apart by their alias,
 * `cni-bandwidth <network> <containerID>`) whose container is not in `cni.dev/valid-attachments`.
 * The qdiscs on a host veth go with the veth when the interface plugin removes it.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request);
  const valid = new Set(((conf['cni.dev/valid-attachments'] as GcAttachment[] | undefined) ?? []).map((attachment) => attachment.containerID));
  const prefix = `${IFB_ALIAS_PREFIX} ${conf.name} `;
  const host = await openNetlink();
  try {
    for (const link of await host.link.list()) {
      if (link.kind !== 'ifb' || !link.alias?.startsWith(prefix)) continue;
      if (!valid.has(link.alias.slice(prefix.length))) await deleteLinkIfExists(host, link.name);
    }
  } finally {
    host.close();
  }
}
