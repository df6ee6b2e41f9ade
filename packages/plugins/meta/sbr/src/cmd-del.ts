// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError } from '@cni/netlink';
import type { DelRequest } from '@cni/skel';
import { CniError, CNI_ERROR_CODES } from '@cni/spec';
import { loadConf, sourceAddresses } from './net-conf.ts';
import { tidyRules } from './routing.ts';
import { withLockedSandbox } from './sandbox.ts';

/**
 * DEL: removes sbr's rules for the addresses on `CNI_IFNAME` and, beyond upstream, those of the
 * previous result, so the rules go also when the link went first. The tables' routes go with the
 * link. Without a namespace there is nothing to do (upstream fails there; the spec wants success).
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  if (request.netns === '') return;
  let fromResult: { ip: string; family: 4 | 6 }[] = [];
  try {
    if (conf.parsedPrevResult) fromResult = sourceAddresses(conf.parsedPrevResult, request.ifName);
  } catch {
    fromResult = [];
  }
  try {
    await withLockedSandbox(request.netns, async (nl) => {
      let onLink: { ip: string; family: 4 | 6 }[] = [];
      try {
        onLink = (await nl.address.list({ link: { name: request.ifName } })).map((address) => ({ ip: address.address, family: address.family }));
      } catch (error) {
        if (!LinkNotFoundError.isInstance(error)) throw error;
      }
      await tidyRules(nl, [...onLink, ...fromResult], conf.table);
    });
  } catch (error) {
    if (CniError.isInstance(error) && error.code === CNI_ERROR_CODES.UNKNOWN_CONTAINER) return;
    throw error;
  }
}
