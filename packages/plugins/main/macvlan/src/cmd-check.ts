// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import { requirePrevResultInterface, type CheckRequest } from '@cni/skel';
import type { InterfaceV100 } from '@cni/spec';
import { openSandbox, resolveMaster } from '@cni/link';
import { loadConf, type MacvlanPluginMode } from './net-conf.ts';

/** The container interface is a macvlan of the configured mode with the MAC of the result. */
async function validateCniContainerInterface(nl: Netlink, iface: InterfaceV100, mode: MacvlanPluginMode): Promise<void> {
  const link = await nl.link.find({ name: iface.name });
  if (!link) throw new Error(`container interface name in prevResult: ${iface.name} not found`);
  if (link.kind !== 'macvlan') throw new Error(`container interface ${iface.name} not of type macvlan`);
  if (link.mode !== mode) throw new Error(`container macvlan mode ${link.mode ?? 'unknown'} does not match expected value: ${mode}`);
  if (iface.mac && iface.mac.toLowerCase() !== link.mac) {
    throw new Error(`interface ${iface.name} Mac ${iface.mac} doesn't match container Mac: ${link.mac ?? ''}`);
  }
}

/**
 * CHECK, as upstream: IPAM CHECK, then the master exists (and bounds the MTU), the container has
 * the prevResult's interface, a macvlan of the configured mode and MAC, with its addresses and routes.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const { result, iface } = requirePrevResultInterface(request, 'macvlan');
    (await resolveMaster(conf, request.netns)).nl.close();
    await validateCniContainerInterface(container, iface, conf.mode);
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
