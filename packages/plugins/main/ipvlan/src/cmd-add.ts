// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAddFor } from '@cni/ipam';
import { NetlinkError } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import { UndoStack, type AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, type Result, type ResultV100 } from '@cni/spec';
import { createOnMaster, openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

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
    const iface = await createOnMaster({
      request,
      conf,
      container,
      prefix: 'ipv',
      link: { kind: 'ipvlan', mode: conf.mode },
      explainCreateError: (error, master) =>
        NetlinkError.isInstance(error) && error.tag === 'Busy'
          ? // The master already has another receive handler: a macvlan, a bridge or a bond.
            new CniError(
              CNI_ERROR_CODES.INTERNAL,
              `failed to create ipvlan: master "${master.name}" is already used by a macvlan, bridge or bond (the kernel allows one of them per master, not ipvlan beside them)`,
              { cause: error },
            )
          : undefined,
    });
    undo.defer(() => container.link.del({ name: request.ifName }));
    const result: ResultV100 = fromPrevious
      ? {
          cniVersion: '1.1.0',
          interfaces: [iface],
          // All addresses belong to the ipvlan interface.
          ips: (conf.chained!.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
          ...(conf.chained!.routes === undefined ? {} : { routes: conf.chained!.routes }),
        }
      : await ipamAddFor(request, iface, undo);
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
  } finally {
    container.close();
  }
}
