// SPDX-License-Identifier: Apache-2.0
import type { Route } from '@cni/spec';
import { DhcpError } from './errors.ts';
import { DHCP_OPTION, decodeClasslessRoutes, decodeIp, decodeIpList, decodeStaticRoutes, maskToPrefix } from './options.ts';
import type { DhcpMessage } from './packet.ts';

/** The route scope `link` (RT_SCOPE_LINK), for option 121 routes without a router. */
const SCOPE_LINK = 253;

/** What a lease gives: the result of ADD in spec 1.1.0's form, before version conversion. */
export interface LeaseResult {
  cniVersion: '1.1.0';
  ips: { address: string; gateway?: string }[];
  routes?: Route[];
  dns?: { nameservers?: string[]; domain?: string };
}

/** The address of an ACK with its prefix (`10.1.2.3/24`); throws when the server gave no usable mask. */
export function leaseAddress(ack: DhcpMessage): string {
  const mask = ack.options.get(DHCP_OPTION.SUBNET_MASK);
  if (mask === undefined) throw new DhcpError(`the DHCP server gave ${ack.yiaddr} without a subnet mask (option 1)`);
  const prefix = maskToPrefix(mask);
  if (prefix === undefined) throw new DhcpError(`the DHCP server gave ${ack.yiaddr} with a non-contiguous subnet mask`);
  return `${ack.yiaddr}/${prefix}`;
}

/**
 * The result upstream builds from an ACK: the address with the first router as gateway; routes
 * from option 121 when present (a router of 0.0.0.0 makes an on-link route, scope link), else
 * option 33 plus a default route through the first router; `priority` as every route's metric.
 * On top of upstream, DNS servers (6) and the domain name (15) fill `dns`.
 */
export function buildResult(ack: DhcpMessage, priority?: number): LeaseResult {
  const routers = optional(ack, DHCP_OPTION.ROUTER, decodeIpList) ?? [];
  const gateway = routers[0];
  const ip: LeaseResult['ips'][number] = { address: leaseAddress(ack) };
  if (gateway !== undefined) ip.gateway = gateway;
  const routes: Route[] = [];
  const withPriority = (route: Route): Route => (priority === undefined ? route : { ...route, priority });
  const classless = optional(ack, DHCP_OPTION.CLASSLESS_ROUTES, decodeClasslessRoutes);
  if (classless !== undefined && classless.length > 0) {
    for (const route of classless) {
      routes.push(withPriority(route.router === '0.0.0.0' ? { dst: route.dst, scope: SCOPE_LINK } : { dst: route.dst, gw: route.router }));
    }
  } else {
    for (const route of optional(ack, DHCP_OPTION.STATIC_ROUTES, decodeStaticRoutes) ?? []) routes.push(withPriority({ dst: route.dst, gw: route.router }));
    if (gateway !== undefined) routes.push(withPriority({ dst: '0.0.0.0/0', gw: gateway }));
  }
  const result: LeaseResult = { cniVersion: '1.1.0', ips: [ip] };
  if (routes.length > 0) result.routes = routes;
  const nameservers = optional(ack, DHCP_OPTION.DNS_SERVERS, decodeIpList);
  const domain = ack.options.get(DHCP_OPTION.DOMAIN_NAME)?.toString('utf8').replace(/\0+$/, '');
  if ((nameservers?.length ?? 0) > 0 || domain) {
    result.dns = {};
    if (nameservers && nameservers.length > 0) result.dns.nameservers = nameservers;
    if (domain) result.dns.domain = domain;
  }
  return result;
}

function optional<T>(message: DhcpMessage, code: number, decode: (value: Buffer) => T): T | undefined {
  const value = message.options.get(code);
  return value === undefined ? undefined : decode(value);
}

/** The server identifier of a reply (option 54), falling back to `siaddr`. */
export function serverIdOf(message: DhcpMessage): string {
  const value = message.options.get(DHCP_OPTION.SERVER_ID);
  return value?.length === 4 ? decodeIp(value) : message.siaddr;
}
