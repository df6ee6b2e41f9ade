// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, type Result } from '@cni/spec';
import { resolveMapper } from './backend.ts';
import { deleteStaleUdpConntrack, enableLocalnetRouting, routableHostInterface } from './host.ts';
import { loadRequestConf } from './net-conf.ts';

/**
 * ADD: for the container's first IPv4 and first IPv6 address, the backend's rules; then the stale
 * UDP conntrack entries of the mapped ports go, and with `snat` the interface routing to the
 * container gets `route_localnet`. prevResult passes through. A failure removes what this ADD
 * wrote, so a refused ADD leaves no rule behind.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadRequestConf(request);
  if (request.prevResult === undefined) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'must be called as chained plugin');
  if (conf.portMappings.length === 0) return request.prevResult;
  // Asked while the rules are written: the answer does not depend on them, and this saves the
  // wait for one process start. routableHostInterface never rejects.
  const hostIf = conf.containerV4 && conf.snat ? routableHostInterface(conf.containerV4.ip) : undefined;
  const mapper = await resolveMapper(conf);
  try {
    for (const container of [conf.containerV4, conf.containerV6]) {
      if (!container) continue;
      await mapper.forwardPorts(conf, container);
      for (const failure of await deleteStaleUdpConntrack(conf.portMappings, container.family)) {
        request.log.debug(`failed to delete stale UDP conntrack entries for ${container.ip}`, { failure });
      }
      if (container.family === 4 && hostIf) {
        const ifName = await hostIf;
        if (ifName !== undefined) {
          try {
            enableLocalnetRouting(ifName);
          } catch (error) {
            throw new Error(`unable to enable route_localnet: ${(error as Error).message}`, { cause: error });
          }
        }
      }
    }
  } catch (error) {
    await mapper.rollback(conf.name, conf.containerId).catch(() => {});
    throw error;
  }
  return request.prevResult;
}
