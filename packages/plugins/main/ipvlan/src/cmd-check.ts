// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResultInterface, type CheckRequest } from '@cni/skel';
import { checkSandboxLink, openSandbox, resolveMaster } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * CHECK, as upstream: IPAM CHECK (when configured), then the master exists, the container has
 * the prevResult's interface, an ipvlan of the configured mode with the result's MAC, and the
 * result's addresses and routes. Each failure names what differs.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  // prevResult is ipvlan's own result here, not a previous plugin's: it says nothing of the master.
  const conf = loadConf(request.conf, undefined, request.netns);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const { result, iface } = requirePrevResultInterface(request, 'ipvlan');
    // The master still exists; a chained ipvlan without a configured master has no way to know its
    // parent any more (prevResult is now ipvlan's own result), so that check applies only otherwise.
    if (conf.master !== '' || conf.ipamType !== '') (await resolveMaster(conf, request.netns)).nl.close();
    const link = await checkSandboxLink(container, iface, 'ipvlan');
    if (link.mode !== conf.mode) {
      throw new Error(`container ipvlan mode ${link.mode ?? 'unknown'} does not match expected value: ${conf.mode}`);
    }
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
