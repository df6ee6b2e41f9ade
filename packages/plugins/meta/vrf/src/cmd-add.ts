// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, type Result } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';
import { addInterface, createVrf, findVrf, members } from './vrf-link.ts';

/**
 * ADD (chained only): find or create the VRF in the container (an existing one must have the
 * configured table), put CNI_IFNAME into it keeping its addresses and routes, and pass prevResult
 * on. A VRF this ADD created is removed again when putting the interface in fails.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const prevResult = request.prevResult;
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing prevResult from earlier plugin');
  const nl = await openSandbox(request.netns);
  try {
    let vrf = await findVrf(nl, conf.vrfname);
    let created = false;
    if (vrf && conf.table !== 0 && vrf.table !== conf.table) {
      throw new Error(`VRF "${conf.vrfname}" already exists with a different routing table ${vrf.table} (configured: ${conf.table})`);
    }
    if (!vrf) {
      vrf = await createVrf(nl, conf.vrfname, conf.table);
      created = true;
    }
    try {
      await addInterface(nl, vrf, request.ifName);
    } catch (error) {
      if (created && (await members(nl, vrf)).length === 0) await nl.link.del({ index: vrf.index }).catch(() => undefined);
      throw error;
    }
    return prevResult;
  } finally {
    nl.close();
  }
}
