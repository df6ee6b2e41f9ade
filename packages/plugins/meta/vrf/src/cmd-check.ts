// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';
import { findVrf, members } from './vrf-link.ts';

/** CHECK: the VRF exists (with the configured table, when one is), and CNI_IFNAME is in it. */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request.conf);
  if (!request.prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing prevResult from earlier plugin');
  const nl = await openSandbox(request.netns);
  try {
    const vrf = await findVrf(nl, conf.vrfname);
    if (!vrf) throw new Error(`VRF "${conf.vrfname}" not found`);
    if (conf.table !== 0 && vrf.table !== conf.table) throw new Error(`VRF "${conf.vrfname}" has routing table ${vrf.table}, expected ${conf.table}`);
    if (!(await members(nl, vrf)).includes(request.ifName)) throw new Error(`failed to find "${request.ifName}" associated to VRF "${conf.vrfname}"`);
  } finally {
    nl.close();
  }
}
