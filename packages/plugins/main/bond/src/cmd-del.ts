// SPDX-License-Identifier: Apache-2.0
import { openNetlink, type Netlink } from '@cni/netlink';
import type { DelRequest } from '@cni/skel';
import { isLinkGone, openSandboxForDel } from '@cni/link';
import { ipamTypeOf } from '@cni/spec';
import { releaseLinks } from './links.ts';
import { loadConf, type BondNetConf } from './net-conf.ts';

/**
 * DEL: release the lease, give the links back as ADD found them (released, MAC, alias and up
 * state restored, moved back to the host when they came from it), delete the bond. Idempotent:
 * no namespace, a namespace gone, a bond or links gone all succeed. A namespace that is gone took
 * its virtual links with it; the kernel returns physical ones to its first namespace by itself.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
  const container = await openSandboxForDel(request.netns);
  if (!container) return;
  let host: Netlink | undefined;
  try {
    let conf: BondNetConf | undefined;
    try {
      conf = loadConf(request.conf);
    } catch {
      // A configuration ADD refuses made no links to give back: only a bond of that name may remain.
    }
    if (conf) {
      if (!conf.linksInContainer) host = await openNetlink();
      await releaseLinks(container, host, conf);
    }
    try {
      await container.link.del({ name: request.ifName });
    } catch (error) {
      if (!isLinkGone(error)) throw error;
    }
  } finally {
    host?.close();
    container.close();
  }
}
