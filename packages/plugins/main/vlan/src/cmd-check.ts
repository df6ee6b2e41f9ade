// SPDX-License-Identifier: Apache-2.0
import { ipamCheck, validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResultInterface, type CheckRequest } from '@cni/skel';
import { checkSandboxLink, openSandbox, resolveMaster } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * CHECK, as upstream: IPAM CHECK, then the master exists, the container has the prevResult's
 * interface, a vlan with the configured id (and MTU when set) and the result's MAC, and the
 * result's addresses and routes. Each failure names what differs.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    await ipamCheck(request);
    const { result, iface } = requirePrevResultInterface(request, 'vlan');
    (await resolveMaster(conf, request.netns)).nl.close();
    const link = await checkSandboxLink(container, iface, 'vlan');
    if (link.vlanId !== conf.vlanId) throw new Error(`container vlan "${iface.name}" has id ${link.vlanId}, expected ${conf.vlanId}`);
    if (conf.mtu !== 0 && link.mtu !== conf.mtu) throw new Error(`container vlan "${iface.name}" has MTU ${link.mtu}, expected ${conf.mtu}`);
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
