// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { resolveMapper } from './backend.ts';
import { loadRequestConf } from './net-conf.ts';

/**
 * CHECK: the backend's rules for each container address exist (iptables: the chain, its rules and
 * entry rules; nftables: as many rules with the container's comment as ADD writes).
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadRequestConf(request);
  if (request.prevResult === undefined) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'required prevResult missing');
  if (conf.portMappings.length === 0) return;
  const mapper = await resolveMapper(conf);
  for (const container of [conf.containerV4, conf.containerV6]) {
    if (container) await mapper.checkPorts(conf, container);
  }
}
