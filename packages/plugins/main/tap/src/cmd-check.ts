// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResultInterface, type CheckRequest } from '@cni/skel';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/** CHECK, as upstream: IPAM CHECK, a prevResult naming the interface in CNI_NETNS, its addresses and routes. */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const { result } = requirePrevResultInterface(request, 'tap');
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
