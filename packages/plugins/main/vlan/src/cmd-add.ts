// SPDX-License-Identifier: Apache-2.0
import { configureIface, withIpam } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import type { AddRequest } from '@cni/skel';
import type { InterfaceV100, Result, ResultV100 } from '@cni/spec';
import { createThenRename, messageOf, openSandbox, resolveMaster } from '@cni/link';
import { loadConf, type VlanNetConf } from './net-conf.ts';

/**
 * Create the VLAN under a random name straight inside the container (a kernel bug makes a name
 * that exists on the host collide otherwise), then rename it to `ifName` there.
 */
export async function createVlan(conf: VlanNetConf, ifName: string, netns: string, container: Netlink): Promise<InterfaceV100> {
  const master = await resolveMaster(conf, netns);
  try {
    const link = await createThenRename({
      container,
      ifName,
      prefix: 'vl',
      kind: 'vlan',
      create: async (name) => {
        const spec = {
          kind: 'vlan' as const,
          name,
          parentIndex: master.link.index,
          vlanId: conf.vlanId,
          ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        };
        await master.nl.link.add(conf.linkInContainer ? spec : { ...spec, netns }).catch((error: unknown) => {
          throw new Error(`failed to create vlan ${conf.vlanId} on master "${master.name}": ${messageOf(error)}`, { cause: error });
        });
      },
    });
    return { name: ifName, mac: link.mac ?? '', sandbox: netns };
  } finally {
    master.nl.close();
  }
}

/**
 * ADD: an 802.1Q link on the master inside the container as CNI_IFNAME, with the IPAM plugin's
 * addresses and routes; the result's DNS is the configuration's, as upstream. A failure after the
 * link exists releases the lease and deletes the link before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  try {
    const iface = await createVlan(conf, request.ifName, request.netns, container);
    try {
      return await withIpam(request, async (ipamResult) => {
        const result: ResultV100 = {
          cniVersion: '1.1.0',
          interfaces: [iface],
          // All addresses belong to the vlan interface.
          ips: (ipamResult.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
          ...(ipamResult.routes === undefined ? {} : { routes: ipamResult.routes }),
        };
        await configureIface(request.ifName, result, { netns: request.netns });
        if (conf.dns !== undefined) result.dns = conf.dns;
        return result;
      });
    } catch (error) {
      // Delete the link to avoid a link leak in the container.
      await container.link.del({ name: request.ifName }).catch(() => undefined);
      throw error;
    }
  } finally {
    container.close();
  }
}
