// SPDX-License-Identifier: Apache-2.0
import { configureIface } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import { UndoStack, type AddRequest } from '@cni/skel';
import { toCurrentResult, type InterfaceV100, type Result, type ResultV100 } from '@cni/spec';
import { createThenRename, messageOf, openSandbox, resolveMaster } from '@cni/link';
import { loadConf, type MacvlanNetConf } from './net-conf.ts';

/**
 * Create the macvlan under a random name straight inside the container (a kernel bug makes a
 * name that exists on the host collide otherwise), then rename it to `ifName` there.
 */
export async function createMacvlan(conf: MacvlanNetConf, ifName: string, netns: string, container: Netlink): Promise<InterfaceV100> {
  const master = await resolveMaster(conf, netns);
  try {
    const link = await createThenRename({
      container,
      ifName,
      prefix: 'mv',
      kind: 'macvlan',
      create: async (name) => {
        const spec = {
          kind: 'macvlan' as const,
          name,
          parentIndex: master.link.index,
          mode: conf.mode,
          ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
          ...(conf.mac === undefined ? {} : { mac: conf.mac }),
          ...(conf.bcqueuelen > 0 ? { bcQueueLen: conf.bcqueuelen } : {}),
        };
        // With the master in the container the link is made there; otherwise made on the host
        // handle and placed in the container by IFLA_NET_NS_FD, so it never shows on the host.
        await master.nl.link.add(conf.linkInContainer ? spec : { ...spec, netns }).catch((error: unknown) => {
          throw new Error(`failed to create macvlan: ${messageOf(error)}`, { cause: error });
        });
      },
    });
    return { name: ifName, mac: link.mac ?? '', sandbox: netns };
  } finally {
    master.nl.close();
  }
}

/**
 * ADD: a macvlan on the master, inside the container as CNI_IFNAME; with IPAM, its addresses and
 * routes, else just up. The result's DNS is the configuration's (upstream drops IPAM's). A failure
 * after the link exists removes the link and releases the lease before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  try {
    await using undo = new UndoStack();
    const iface = await createMacvlan(conf, request.ifName, request.netns, container);
    undo.defer(() => container.link.del({ name: request.ifName }));
    const result: ResultV100 = { cniVersion: '1.1.0', interfaces: [iface] };
    if (conf.ipamType !== '') {
      const ipamResult = toCurrentResult(await request.delegate(conf.ipamType));
      undo.defer(() => request.delegate(conf.ipamType, undefined, { command: 'DEL' }));
      if (!ipamResult.ips || ipamResult.ips.length === 0) throw new Error('IPAM plugin returned missing IP config');
      // All addresses apply to the container macvlan interface.
      result.ips = ipamResult.ips.map((ip) => ({ ...ip, interface: 0 }));
      if (ipamResult.routes) result.routes = ipamResult.routes;
      try {
        writeSysctl(`net/ipv6/conf/${request.ifName}/ndisc_notify`, '1', { netns: request.netns });
      } catch {
        // Upstream ignores it too: IPv6 may be off in the container.
      }
      await configureIface(request.ifName, result, { netns: request.netns, arpNotify: true });
    } else {
      try {
        await container.link.setUp({ name: request.ifName });
      } catch (error) {
        throw new Error(`failed to set "${request.ifName}" UP: ${messageOf(error)}`, { cause: error });
      }
    }
    if (conf.dns !== undefined) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
  }
}
