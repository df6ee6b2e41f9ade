// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResult, type CheckRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * CHECK: IPAM CHECK, then what upstream verifies inside the container: the interface of the
 * previous result named CNI_IFNAME in CNI_NETNS exists, is a veth with the recorded MAC, has
 * the result's addresses and the result's routes exist. The error names what differs.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    await request.delegate(conf.ipam.type);
    const result = toCurrentResult(requirePrevResult(request));
    const recorded = (result.interfaces ?? []).find((iface) => iface.name === request.ifName && iface.sandbox === request.netns);
    if (!recorded) {
      throw new Error(`sandbox in prevResult doesn't match configured netns: no interface "${request.ifName}" in "${request.netns}"`);
    }
    const link = await container.link.find({ name: recorded.name });
    if (!link) throw new Error(`ptp: container interface name in prevResult: ${recorded.name} not found`);
    if (link.kind !== 'veth') throw new Error(`container interface ${recorded.name} not of type veth/p2p`);
    if (recorded.mac && recorded.mac.toLowerCase() !== link.mac?.toLowerCase()) {
      throw new Error(`ptp: interface ${recorded.name} mac ${recorded.mac} doesn't match container mac: ${link.mac}`);
    }
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
