// SPDX-License-Identifier: Apache-2.0
import { parseCidr, parseIp } from '@cni/ip';
import type { Netlink } from '@cni/netlink';
import type { IpConfigV100, Route } from '@cni/spec';

function sameIp(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return parseIp(a).equals(parseIp(b));
}

/**
 * Every address of the result is on `ifName` and has a route to its prefix, as upstream's
 * `ValidateExpectedInterfaceIPs`; the error names what is missing. `nl` is a handle in the
 * container's namespace. The CHECK of every interface plugin uses it.
 */
export async function validateExpectedInterfaceIps(nl: Netlink, ifName: string, ips: readonly IpConfigV100[]): Promise<void> {
  const link = await nl.link.find({ name: ifName });
  if (!link) throw new Error(`cannot find container link ${ifName}`);
  const addresses = await nl.address.list({ link: { index: link.index } });
  for (const ip of ips) {
    const wanted = parseCidr(ip.address);
    if (!addresses.some((address) => parseCidr(address.cidr).equals(wanted))) {
      throw new Error(`failed to match addr ${ip.address} on interface ${ifName}`);
    }
    const prefix = wanted.masked().toString();
    const routes = await nl.route.list({ family: wanted.family === 4 ? 4 : 6, table: 'all' });
    if (!routes.some((route) => route.dst !== 'default' && route.dst !== '' && parseCidr(route.dst).masked().toString() === prefix)) {
      throw new Error(`failed to find a route to ${prefix} for address ${ip.address} on interface ${ifName}`);
    }
  }
}

/** Every route of the result exists (with its gateway when it names one), as upstream's `ValidateExpectedRoute`; `nl` as above. */
export async function validateExpectedRoutes(nl: Netlink, routes: readonly Route[]): Promise<void> {
  for (const route of routes) {
    const dst = parseCidr(route.dst);
    const isDefault = dst.prefix === 0;
    const found = (await nl.route.list({ family: dst.family === 4 ? 4 : 6, table: 'all' })).some(
      (candidate) =>
        (isDefault ? candidate.dst === 'default' : candidate.dst !== 'default' && candidate.dst !== '' && parseCidr(candidate.dst).masked().equals(dst.masked())) &&
        (route.gw === undefined || sameIp(candidate.gateway, route.gw)),
    );
    if (!found) throw new Error(`expected route ${route.dst}${route.gw ? ` via ${route.gw}` : ''} not found in routing table`);
  }
}
