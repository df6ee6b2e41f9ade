// SPDX-License-Identifier: Apache-2.0
import { setTimeout as sleep } from 'node:timers/promises';
import { nextIp, parseCidr } from '@cni/ip';
import { configureIface } from '@cni/ipam';
import type { Link, Netlink } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import { UndoStack, type AddRequest } from '@cni/skel';
import { dnsConfSet, toCurrentResult, type InterfaceV100, type Result, type ResultV100 } from '@cni/spec';
import { attachmentAlias, enableForward, openHost, openSandbox, setupIpMasq, setupMacSpoofCheck, setupVeth, teardownIpMasq, teardownMacSpoofCheck } from '@cni/link';
import { ensureAddr, ensureBridge, ensureVlanInterface, pinMac, setupBridgePort, bridgeByName } from './bridge-link.ts';
import { loadConf, type BridgeNetConf } from './net-conf.ts';

/** Waits between reads of the host veth's operational state (upstream's, about 2.5 s in all). */
const OPER_UP_RETRIES_MS = [0, 50, 500, 1000, 1000];

/**
 * Gateways of the result, as upstream's `calcGateways`: every IP gets `interface: 2` (the
 * container veth); with `isGateway` an IP without gateway gets its subnet's first address; with
 * `isDefaultGateway` a default route through it is added per family, unless IPAM already gave
 * one with a gateway. Returns the gateway addresses (with the IP's prefix) to put on the bridge.
 */
export function calcGateways(result: ResultV100, conf: Pick<BridgeNetConf, 'isGateway' | 'isDefaultGateway'>): Record<4 | 6, string[]> {
  const gateways: Record<4 | 6, string[]> = { 4: [], 6: [] };
  const defaultFound = { 4: false, 6: false };
  result.routes ??= [];
  for (const ip of result.ips ?? []) {
    const cidr = parseCidr(ip.address);
    const family = cidr.family;
    ip.interface = 2;
    if (ip.gateway === undefined && conf.isGateway) ip.gateway = nextIp(cidr.masked().address)!.toString();
    if (conf.isDefaultGateway && !defaultFound[family]) {
      defaultFound[family] = result.routes.some((route) => {
        const dst = parseCidr(route.dst);
        return route.gw !== undefined && dst.family === family && dst.prefix === 0;
      });
      if (!defaultFound[family]) {
        result.routes.push({ dst: family === 4 ? '0.0.0.0/0' : '::/0', ...(ip.gateway === undefined ? {} : { gw: ip.gateway }) });
        defaultFound[family] = true;
      }
    }
    if (conf.isGateway && ip.gateway !== undefined) gateways[family].push(`${ip.gateway}/${cidr.prefix}`);
  }
  if (result.routes.length === 0) delete result.routes;
  return gateways;
}

/** The container-side sysctls upstream sets before addressing: DAD as configured, gratuitous ARP on. */
function containerSysctls(netns: string, ifName: string, enabledad: boolean): void {
  const set = (key: string, value: string) => {
    try {
      writeSysctl(key, value, { netns });
    } catch {
      // Upstream ignores these failures (IPv6 disabled in the container, for one).
    }
  };
  if (enabledad) {
    set(`net/ipv6/conf/${ifName}/enhanced_dad`, '1');
    set(`net/ipv6/conf/${ifName}/accept_dad`, '1');
  } else {
    set(`net/ipv6/conf/${ifName}/accept_dad`, '0');
  }
  set(`net/ipv4/conf/${ifName}/arp_notify`, '1');
}

/** Wait for the bridge port to be operationally up: a port the bridge holds in error state is no use. */
async function waitOperUp(host: Netlink, name: string): Promise<Link> {
  let link: Link | undefined;
  for (const [index, wait] of OPER_UP_RETRIES_MS.entries()) {
    if (wait) await sleep(wait);
    link = await host.link.get({ name });
    if (link.operState === 'UP') return link;
    if (index === OPER_UP_RETRIES_MS.length - 1) break;
  }
  throw new Error(`bridge port in error state: ${link?.operState ?? 'unknown'}`);
}

/**
 * ADD: the bridge (made when missing), a veth pair with its host end as a bridge port, MAC spoof
 * checking, then with IPAM the addresses, gateways on the bridge, forwarding and masquerading, or
 * without IPAM just the container link up. A failure undoes what this ADD made (masquerade and
 * spoof-check rules, the veth, the lease); the bridge stays, as upstream never deletes it.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const host = await openHost();
  let container: Netlink | undefined;
  try {
    await using undo = new UndoStack();
    // The sandbox first: a request for a namespace that does not exist makes no bridge.
    container = await openSandbox(request.netns);
    let bridge = await ensureBridge(host, {
      name: conf.bridge,
      mtu: conf.mtu,
      promiscMode: conf.promiscMode,
      vlanFiltering: conf.vlan !== 0 || conf.vlanTrunk !== undefined,
    }).catch((error: unknown) => {
      throw new Error(`failed to create bridge "${conf.bridge}": ${(error as Error).message}`, { cause: error });
    });

    const veth = await setupVeth(host, container, {
      netns: request.netns,
      ifName: request.ifName,
      mtu: conf.mtu,
      mac: conf.mac,
      alias: attachmentAlias('bridge', conf.name, request.containerId, request.ifName),
    });
    undo.defer(() => host.link.del({ index: veth.host.index }));
    await setupBridgePort(host, veth.host, bridge, conf);

    const hostInterface: InterfaceV100 = { name: veth.host.name, mac: veth.host.mac! };
    const bridgeInterface: InterfaceV100 = { name: bridge.name, mac: bridge.mac! };
    const containerInterface: InterfaceV100 = { name: veth.container.name, mac: veth.container.mac!, sandbox: request.netns };
    const result: ResultV100 = { cniVersion: '1.1.0', interfaces: [bridgeInterface, hostInterface, containerInterface] };

    if (conf.macspoofchk) {
      const ref = { containerId: request.containerId, ifName: request.ifName };
      undo.defer(() => teardownMacSpoofCheck(ref));
      await setupMacSpoofCheck({ ...ref, hostIfName: veth.host.name, mac: veth.container.mac! });
    }

    if (conf.isLayer3) {
      const ipamType = conf.ipam!.type;
      const ipamResult = toCurrentResult(await request.delegate(ipamType));
      undo.defer(() => request.delegate(ipamType, undefined, { command: 'DEL' }));
      if ((ipamResult.ips ?? []).length === 0) throw new Error('IPAM plugin returned missing IP config');
      result.ips = ipamResult.ips!;
      if (ipamResult.routes) result.routes = ipamResult.routes;
      if (ipamResult.dns) result.dns = ipamResult.dns;
      const gateways = calcGateways(result, conf);

      containerSysctls(request.netns, request.ifName, conf.enabledad);
      await configureIface(request.ifName, result, { netns: request.netns });

      if (conf.isGateway) {
        let vlanInterface: InterfaceV100 | undefined;
        for (const family of [4, 6] as const) {
          for (const gateway of gateways[family]) {
            if (conf.vlan !== 0) {
              const vlanLink = await ensureVlanInterface(host, bridge, conf.vlan, conf.preserveDefaultVlan).catch((error: unknown) => {
                throw new Error(`failed to create vlan interface: ${(error as Error).message}`, { cause: error });
              });
              if (!vlanInterface) {
                vlanInterface = { name: vlanLink.name, mac: vlanLink.mac! };
                result.interfaces!.push(vlanInterface);
              }
              await ensureAddr(host, vlanLink, gateway, conf.forceAddress).catch((error: unknown) => {
                throw new Error(`failed to set vlan interface for bridge with addr: ${(error as Error).message}`, { cause: error });
              });
              // Beyond upstream, which pins only the VLAN link here: the bridge itself must not
              // follow its ports' MACs either, or CHECK of this pod fails once another pod joins.
              await pinMac(host, bridge);
            } else {
              await ensureAddr(host, bridge, gateway, conf.forceAddress).catch((error: unknown) => {
                throw new Error(`failed to set bridge addr: ${(error as Error).message}`, { cause: error });
              });
            }
          }
          if (gateways[family].length > 0) enableForward(gateways[family]);
        }
      }

      if (conf.ipMasq) {
        const attachment = { network: conf.name, containerId: request.containerId, ifName: request.ifName, addresses: result.ips.map((ip) => ip.address) };
        undo.defer(() => teardownIpMasq(attachment));
        await setupIpMasq(attachment, conf.ipMasqBackend ? { backend: conf.ipMasqBackend } : {});
      }
    } else if (!conf.disableContainerInterface) {
      await container.link.setUp({ name: request.ifName }).catch((error: unknown) => {
        throw new Error(`failed to set "${request.ifName}" up: ${(error as Error).message}`, { cause: error });
      });
    }

    const hostVeth = conf.disableContainerInterface ? await host.link.get({ index: veth.host.index }) : await waitOperUp(host, veth.host.name);
    hostInterface.mac = hostVeth.mac!;
    bridge = await bridgeByName(host, conf.bridge);
    bridgeInterface.mac = bridge.mac!;
    if (dnsConfSet(conf.dns)) result.dns = conf.dns;
    undo.dismiss();
    return result;
  } finally {
    container?.close();
    host.close();
  }
}
