// SPDX-License-Identifier: Apache-2.0
import { setTimeout as sleep } from 'node:timers/promises';
import type { Netlink, RouteSpec } from '@cni/netlink';
import { readSysctl, writeSysctl } from '@cni/netns';
import type { ResultV100 } from '@cni/spec';

// Until @cni/ipam's configureIface lands, this is upstream's ipam.ConfigureIface, kept private.

const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
const DAD_SETTLE_MS = 5_000;

/** The family of an address or CIDR in text. */
export function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** Wait until no IPv6 address of the link is tentative (≤5 s): a route via a gateway needs a settled source. */
async function settleAddresses(nl: Netlink, ifName: string): Promise<void> {
  const deadline = Date.now() + DAD_SETTLE_MS;
  for (;;) {
    const addresses = await nl.address.list({ link: { name: ifName }, family: 6 });
    const failed = addresses.find((address) => address.flags & IFA_F_DADFAILED);
    if (failed) throw new Error(`link ${ifName} has address ${failed.cidr} in DADFAILED state`);
    if (!addresses.some((address) => address.flags & IFA_F_TENTATIVE)) return;
    if (Date.now() > deadline) throw new Error(`link ${ifName} still has tentative addresses after ${DAD_SETTLE_MS / 1000}s`);
    await sleep(50);
  }
}

const SCOPES: Record<number, 'global' | 'site' | 'link' | 'host' | 'nowhere'> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

/**
 * Apply an IPAM result to the container interface as upstream's `ipam.ConfigureIface`: the
 * addresses whose `interface` names `ifName` (IPv6 enabled on lo and the link first, with
 * `keep_addr_on_down`), the link up, DAD settled when there is an IPv6 gateway, then the routes,
 * a route without `gw` going through the first gateway of its family.
 */
export async function configureIface(nl: Netlink, netns: string, ifName: string, result: ResultV100): Promise<void> {
  const interfaces = result.interfaces ?? [];
  if (interfaces.length === 0) throw new Error('no interfaces to configure');
  if (!(await nl.link.find({ name: ifName }))) throw new Error(`failed to lookup "${ifName}": link not found`);

  const gateways: { 4?: string; 6?: string } = {};
  let ipv6Enabled = false;
  for (const ip of result.ips ?? []) {
    if (ip.interface === undefined) continue;
    if (ip.interface < 0 || ip.interface >= interfaces.length || interfaces[ip.interface]!.name !== ifName) {
      throw new Error(`failed to add IP addr ${ip.address} to "${ifName}": invalid interface index`);
    }
    if (familyOf(ip.address) === 6 && !ipv6Enabled) {
      for (const name of ['lo', ifName]) {
        const key = `net/ipv6/conf/${name}/disable_ipv6`;
        let value: string;
        try {
          value = readSysctl(key, { netns }).trim();
        } catch {
          continue;
        }
        if (value !== '0') writeSysctl(key, '0', { netns });
      }
      writeSysctl(`net/ipv6/conf/${ifName}/keep_addr_on_down`, '1', { netns });
      ipv6Enabled = true;
    }
    try {
      await nl.address.add({ name: ifName }, ip.address);
    } catch (error) {
      throw new Error(`failed to add IP addr ${ip.address} to "${ifName}": ${(error as Error).message}`, { cause: error });
    }
    if (ip.gateway !== undefined) gateways[familyOf(ip.gateway)] ??= ip.gateway;
  }

  await nl.link.setUp({ name: ifName });
  if (gateways[6] !== undefined) await settleAddresses(nl, ifName);

  for (const route of result.routes ?? []) {
    const gateway = route.gw ?? gateways[familyOf(route.dst)];
    const spec: RouteSpec = {
      dst: route.dst,
      link: { name: ifName },
      ...(gateway === undefined ? {} : { gateway }),
      ...(route.priority === undefined ? {} : { metric: route.priority }),
      ...(route.table === undefined ? {} : { table: route.table }),
      scope: route.scope === undefined ? 'global' : (SCOPES[route.scope] ?? 'global'),
    };
    try {
      await nl.route.add(spec);
    } catch (error) {
      throw new Error(`failed to add route '${route.dst} via ${gateway ?? '<nil>'} dev ${ifName}': ${(error as Error).message}`, { cause: error });
    }
  }
}
