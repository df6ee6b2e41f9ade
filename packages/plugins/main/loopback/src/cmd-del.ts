// SPDX-License-Identifier: Apache-2.0
import { openNetlink } from '@cni/netlink';
import type { DelRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';
import { isNetnsGone } from '@cni/link';
import { LOOPBACK } from './net-conf.ts';

/**
 * DEL: set `lo` down. Nothing to do without a namespace, and a namespace already gone counts as
 * success: the runtime may call DEL after the sandbox was removed, and again after that.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  loadConf(request);
  if (request.netns === '') return;
  let nl;
  try {
    nl = await openNetlink({ netns: request.netns });
  } catch (error) {
    if (isNetnsGone(error)) return;
    throw error;
  }
  try {
    await nl.link.setDown({ name: LOOPBACK });
  } finally {
    nl.close();
  }
}
