// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import { requirePrevResult, type CheckRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * CHECK (bond-cni has none): IPAM CHECK when configured, then CNI_IFNAME in the container is a
 * bond of the configured mode with every link of `links` enslaved, and the result's addresses
 * and routes. Each failure names what differs.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    if (conf.ipamType !== '') await request.delegate(conf.ipamType);
    const result = toCurrentResult(requirePrevResult(request));
    const bond = await container.link.find({ name: request.ifName });
    if (!bond) throw new Error(`bond "${request.ifName}" not found in the container`);
    if (bond.kind !== 'bond') throw new Error(`container interface "${request.ifName}" is a ${bond.kind}, not a bond`);
    if (bond.mode !== conf.mode) throw new Error(`bond "${request.ifName}" has mode ${bond.mode ?? 'unknown'}, expected ${conf.mode}`);
    for (const name of conf.links) {
      const link = await container.link.find({ name });
      if (link?.masterIndex !== bond.index) throw new Error(`link "${name}" is not enslaved to bond "${request.ifName}"`);
    }
    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
  }
}
