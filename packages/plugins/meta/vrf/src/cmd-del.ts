// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { isLinkGone, openSandboxForDel } from '@cni/link';
import { loadConf } from './net-conf.ts';
import { findVrf, members } from './vrf-link.ts';

/**
 * DEL: take CNI_IFNAME out of the VRF, and delete the VRF when it was its last member.
 * Idempotent: no namespace, a namespace gone, a VRF gone or an interface gone all succeed.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const nl = await openSandboxForDel(request.netns);
  if (!nl) return;
  try {
    const vrf = await findVrf(nl, conf.vrfname);
    if (!vrf) return;
    const link = await nl.link.find({ name: request.ifName });
    if (link?.masterIndex === vrf.index) {
      try {
        await nl.link.setNoMaster({ index: link.index });
      } catch (error) {
        if (!isLinkGone(error)) throw error;
      }
    }
    if ((await members(nl, vrf)).length === 0) {
      try {
        await nl.link.del({ index: vrf.index });
      } catch (error) {
        if (!isLinkGone(error)) throw error;
      }
    }
  } finally {
    nl.close();
  }
}
