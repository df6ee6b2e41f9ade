// SPDX-License-Identifier: Apache-2.0
import { ipamCheck, validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResultInterface, type CheckRequest } from '@cni/skel';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * CHECK, as upstream: IPAM CHECK, then the prevResult's interface is in the container, a dummy
 * with the result's MAC, up, with its addresses (and, beyond upstream, its routes).
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    await ipamCheck(request);
    const { result, iface } = requirePrevResultInterface(request, 'dummy');
    const link = await container.link.find({ name: iface.name });
    if (!link) throw new Error(`container interface "${iface.name}" of prevResult not found`);
    if (link.kind !== 'dummy') throw new Error(`container interface "${iface.name}" is a ${link.kind}, not a dummy`);
    if (iface.mac && iface.mac.toLowerCase() !== link.mac) {
      throw new Error(`interface "${iface.name}" MAC ${iface.mac} doesn't match container MAC ${link.mac ?? ''}`);
    }
    if (!link.up) throw new Error(`interface "${iface.name}" is down`);
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
