// SPDX-License-Identifier: Apache-2.0
import { openNetlink } from '@cni/netlink';
import type { DelRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { findHostVeth } from './host-veth.ts';
import { loadConf } from './net-conf.ts';
import { isNetnsGone, openSandbox } from '@cni/link';
import { deleteLinkIfExists, deleteVethQdiscs, ifbName } from './shaping.ts';

/**
 * DEL: deletes the ifb, as upstream (a missing one is fine). Beyond upstream, when the previous
 * result and the container still lead to the host veth, its TBF and ingress qdisc go too, so a
 * veth the interface plugin keeps is left unshaped.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  const host = await openNetlink();
  try {
    await deleteLinkIfExists(host, ifbName(conf.name, request.containerId));
    const prevResult = conf.parsedPrevResult;
    if (!prevResult || request.netns === '') return;
    let container;
    try {
      container = await openSandbox(request.netns);
    } catch (error) {
      if (isNetnsGone((error as { cause?: unknown }).cause)) return;
      throw error;
    }
    try {
      const hostVeth = await findHostVeth(host, container, request.ifName, toCurrentResult(prevResult).interfaces ?? []).catch(() => undefined);
      if (hostVeth) await deleteVethQdiscs(host, hostVeth);
    } finally {
      container.close();
    }
  } finally {
    host.close();
  }
}
