// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAdd, ipamDel } from '@cni/ipam';
import { NetlinkError, type Netlink } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import { UndoStack, type AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, type InterfaceV100, type Result, type ResultV100 } from '@cni/spec';
import { createThenRename, messageOf, openSandbox, resolveMaster } from '@cni/link';
import { loadConf, type IpvlanNetConf } from './net-conf.ts';

/**
 * Create the ipvlan under a random name straight inside the container (a kernel bug makes a name
 * that exists on the host collide otherwise), then rename it to `ifName` there.
 */
export async function createIpvlan(conf: IpvlanNetConf, ifName: string, netns: string, container: Netlink): Promise<InterfaceV100> {
  const master = await resolveMaster(conf, netns);
  try {
    const link = await createThenRename({
      container,
      ifName,
      prefix: 'ipv',
      kind: 'ipvlan',
      create: async (name) => {
        const spec = {
          kind: 'ipvlan' as const,
          name,
          parentIndex: master.link.index,
          mode: conf.mode,
          ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        };
        try {
          // With the master in the container the link is made there; otherwise on the host handle and
          // placed in the container by IFLA_NET_NS_FD, so it never shows on the host.
          await master.nl.link.add(conf.linkInContainer ? spec : { ...spec, netns });
        } catch (error) {
          if (NetlinkError.isInstance(error) && error.tag === 'Busy') {
            // The master already has another receive handler: a macvlan, a bridge or a bond.
            throw new CniError(
              CNI_ERROR_CODES.INTERNAL,
              `failed to create ipvlan: master "${master.name}" is already used by a macvlan, bridge or bond (the kernel allows one of them per master, not ipvlan beside them)`,
              { cause: error },
            );
          }
          throw new Error(`failed to create ipvlan on master "${master.name}": ${messageOf(error)}`, { cause: error });
        }
      },
    });
    return { name: ifName, mac: link.mac ?? '', sandbox: netns };
  } finally {
    master.nl.close();
  }
}

/**
 * ADD: an ipvlan on the master, inside the container as CNI_IFNAME, with the IPAM plugin's
 * addresses and routes, or prevResult's when chained without IPAM. The result's DNS is the
 * configuration's (upstream drops IPAM's). A failure after the link exists removes the link and
 * releases the lease before the error is returned.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf, request.prevResult, request.netns);
  const fromPrevious = conf.ipamType === '' && (conf.chained?.ips ?? []).length > 0;
  if (conf.ipamType === '' && !fromPrevious) {
    throw new CniError(
      CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
      'ipvlan needs an IPAM configuration unless chained after a plugin whose result has addresses',
      { details: `ipam: ${JSON.stringify(request.conf.ipam ?? null)}, prevResult ${conf.chained ? 'has no addresses' : 'absent'}` },
    );
  }
  const container = await openSandbox(request.netns);
  try {
    await using undo = new UndoStack();
    const iface = await createIpvlan(conf, request.ifName, request.netns, container);
    undo.defer(() => container.link.del({ name: request.ifName }));
    {
      let source: ResultV100;
      if (fromPrevious) {
        source = conf.chained!;
      } else {
        source = await ipamAdd(request);
        undo.defer(() => ipamDel(request));
      }
      const result: ResultV100 = {
        cniVersion: '1.1.0',
        interfaces: [iface],
        // All addresses belong to the ipvlan interface.
        ips: (source.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
        ...(source.routes === undefined ? {} : { routes: source.routes }),
      };
      for (const key of [`net/ipv4/conf/${request.ifName}/arp_notify`, `net/ipv6/conf/${request.ifName}/ndisc_notify`]) {
        try {
          writeSysctl(key, '1', { netns: request.netns });
        } catch {
          // Upstream ignores these too: IPv6 may be off in the container.
        }
      }
      await configureIface(request.ifName, result, { netns: request.netns });
      if (conf.dns !== undefined) result.dns = conf.dns;
      undo.dismiss();
      return result;
    }
  } finally {
    container.close();
  }
}
