// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResult, type CheckRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';
import type { SysfsOptions } from './sysfs.ts';

/**
 * CHECK, as upstream: IPAM CHECK, a prevResult, then (unless DPDK) the container holds the
 * result's interface with its MAC, addresses and routes.
 */
export async function cmdCheck(request: CheckRequest, options: SysfsOptions = {}): Promise<void> {
  const conf = loadConf(request, options);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const prevResult = requirePrevResult(request);
    if (conf.dpdkMode) return;
    const result = toCurrentResult(prevResult);
    const iface = (result.interfaces ?? []).find((candidate) => candidate.name === request.ifName && candidate.sandbox === request.netns);
    if (!iface) throw new Error(`sandbox in prevResult doesn't match configured netns: ${request.netns}`);
    const link = await container.link.find({ name: iface.name });
    if (!link) throw new Error(`container interface name in prevResult: ${iface.name} not found`);
    if (iface.mac && iface.mac.toLowerCase() !== link.mac) {
      throw new Error(`interface ${iface.name} Mac ${iface.mac} doesn't match container Mac: ${link.mac ?? ''}`);
    }
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
