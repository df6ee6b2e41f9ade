// SPDX-License-Identifier: Apache-2.0
import { parseCidr } from '@cni/ip';
import { configureIface } from '@cni/ipam';
import type { Netlink } from '@cni/netlink';
import { UndoStack, type AddRequest } from '@cni/skel';
import { dnsConfSet, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import { attachmentAlias, enableForward, openHost, openSandbox, setupIpMasq, setupVeth, teardownIpMasq } from '@cni/link';
import { loadConf } from './net-conf.ts';

const HOST_BITS = { 4: 32, 6: 128 } as const;

/**
 * Inside the container: the IPAM addresses on `ifName`, then the subnet route the kernel added
 * replaced by a point-to-point route to the gateway and the subnet through it, as upstream's
 * `setupContainerVeth` (the container reaches even its subnet neighbours through the host).
 */
async function setupContainerRoutes(container: Netlink, netns: string, ifName: string, result: ResultV100): Promise<void> {
  await configureIface(ifName, result, { netns });
  for (const ip of result.ips ?? []) {
    const address = ip.address.split('/')[0]!;
    const subnet = parseCidr(ip.address).masked().toString();
    await container.route.del({ dst: subnet, link: { name: ifName }, scope: 'nowhere' }).catch((error: unknown) => {
      throw new Error(`failed to delete route ${subnet} dev ${ifName}: ${(error as Error).message}`, { cause: error });
    });
    if (ip.gateway === undefined) continue;
    const bits = HOST_BITS[parseCidr(ip.address).family];
    for (const route of [
      { dst: `${ip.gateway}/${bits}`, link: { name: ifName }, scope: 'link' as const, src: address },
      { dst: subnet, link: { name: ifName }, scope: 'global' as const, gateway: ip.gateway, src: address },
    ]) {
      await container.route.add(route).catch((error: unknown) => {
        throw new Error(`failed to add route ${route.dst} dev ${ifName}: ${(error as Error).message}`, { cause: error });
      });
    }
  }
}

/**
 * On the host: each gateway as a host address on the host veth (the same gateway on every
 * container's veth) and a host route to each container address, as upstream's `setupHostVeth`.
 */
async function setupHostVeth(host: Netlink, hostVeth: string, result: ResultV100): Promise<void> {
  for (const ip of result.ips ?? []) {
    const bits = HOST_BITS[parseCidr(ip.address).family];
    if (ip.gateway !== undefined) {
      await host.address.add({ name: hostVeth }, `${ip.gateway}/${bits}`).catch((error: unknown) => {
        throw new Error(`failed to add IP addr ${ip.gateway}/${bits} to veth: ${(error as Error).message}`, { cause: error });
      });
    }
    const address = `${ip.address.split('/')[0]}/${bits}`;
    // Upstream's AddHostRoute: host scope, no gateway; an existing route is fine.
    await host.route.add({ dst: address, link: { name: hostVeth }, scope: 'host' }).catch((error: unknown) => {
      if ((error as { tag?: string }).tag !== 'AlreadyExists') throw new Error(`failed to add route on host: ${(error as Error).message}`, { cause: error });
    });
  }
}

/**
 * ADD: IPAM ADD, forwarding on, a veth pair with the container end configured point to point,
 * the host end addressed and routed, masquerading when `ipMasq`. A failure removes the veth
 * and the masquerade rules made so far and releases the lease (upstream's deferred IPAM DEL).
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  const host = await openHost();
  try {
    await using undo = new UndoStack();
    const ipamResult = await request.delegate(conf.ipam.type);
    undo.defer(() => request.delegate(conf.ipam.type, undefined, { command: 'DEL' }));
    const result: ResultV100 = { ...toCurrentResult(ipamResult), cniVersion: '1.1.0' };
    if ((result.ips ?? []).length === 0) throw new Error('IPAM plugin returned missing IP config');
    enableForward(result.ips!.map((ip) => ip.address));

    const veth = await setupVeth(host, container, {
      netns: request.netns,
      ifName: request.ifName,
      mtu: conf.mtu,
      alias: attachmentAlias('ptp', conf.name, request.containerId, request.ifName),
    });
    undo.defer(() => host.link.del({ index: veth.host.index }));
    result.interfaces = [
      { name: veth.host.name, mac: veth.host.mac! },
      { name: veth.container.name, mac: veth.container.mac!, sandbox: request.netns },
    ];
    result.ips = result.ips!.map((ip) => ({ ...ip, interface: 1 }));

    await setupContainerRoutes(container, request.netns, request.ifName, result);
    await setupHostVeth(host, veth.host.name, result);

    if (conf.ipMasq) {
      const attachment = { network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses: result.ips.map((ip) => ip.address) };
      undo.defer(() => teardownIpMasq(attachment));
      await setupIpMasq(attachment, conf.ipMasqBackend ? { backend: conf.ipMasqBackend } : {});
    }
    if (dnsConfSet(conf.dns)) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container.close();
    host.close();
  }
}
