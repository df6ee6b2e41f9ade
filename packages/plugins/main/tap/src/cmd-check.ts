// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResult, type CheckRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/** CHECK, as upstream: IPAM CHECK, a prevResult naming the interface in CNI_NETNS, its addresses and routes. */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const result = toCurrentResult(requirePrevResult(request));
    const iface = (result.interfaces ?? []).find((candidate) => candidate.name === request.ifName && candidate.sandbox === request.netns);
    if (!iface) throw new Error(`sandbox in prevResult doesn't match configured netns: ${request.netns}`);
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
