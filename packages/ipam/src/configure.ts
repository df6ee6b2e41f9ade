// SPDX-License-Identifier: Apache-2.0
import { tryParseCidr, tryParseIp, type IpAddress } from '@cni/ip';
import { type AddressScope, type Netlink, openNetlink } from '@cni/netlink';
import { readSysctl, writeSysctl } from '@cni/netns';
import type { ResultV100 } from '@cni/spec';
import { IpamError } from './errors.ts';

/** Options of {@link configureIface}. */
export interface ConfigureOptions {
  /** The container's network namespace (its path, as CNI_NETNS); the interface lives there. */
  netns: string;
  /**
   * IPv6 duplicate address detection: `settle` (the default, as upstream) waits up to
   * {@link ConfigureOptions.dadTimeoutMs} for the addresses to leave the tentative state when
   * the result has an IPv6 gateway; `skip` adds IPv6 addresses with `nodad`, as bridge's
   * `enabledad: false` wants, so that they are usable at once.
   */
  dad?: 'settle' | 'skip';
  /** How long to wait for DAD; default 5000 ms, upstream's. */
  dadTimeoutMs?: number;
  /**
   * Set `arp_notify` on the interface before it goes up, so that the kernel announces its IPv4
   * addresses with a gratuitous ARP (bridge and macvlan do this for fast neighbour updates).
   */
  arpNotify?: boolean;
}

const TENTATIVE = 0x40;
const DADFAILED = 0x08;

const scopeNames: Record<number, AddressScope> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };

function describeIp(ip: { address: string; gateway?: string | undefined; interface?: number | undefined }): string {
  // Go prints the IPConfig as {address gateway interface}: keep its shape for familiar errors.
  return `{${ip.address} ${ip.gateway ?? '<nil>'} ${ip.interface ?? '<nil>'}}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Apply an IPAM result to `ifName` inside `options.netns`, as upstream's `ipam.ConfigureIface`:
 * each IP whose `interface` index names `ifName` is added (IPs without an index are skipped; an
 * index naming another interface is an error); IPv6 is enabled on `lo` and the interface (and
 * `keep_addr_on_down` set) before the first IPv6 address; the link is set up; DAD is settled or
 * skipped; then every route of the result is added through the interface, its gateway defaulting
 * to the first gateway of its family, with its priority, table and scope.
 *
 * Netlink acts through a socket bound to the namespace and sysctls through @cni/netns, so the
 * calling thread never leaves its own namespace.
 *
 * @throws IpamError (code 999) with upstream's texts: `no interfaces to configure`,
 * `failed to lookup "eth0": ...`, `failed to add IP addr {...} to "eth0": ...`, `failed to add route ...`.
 *
 * @example
 * ```ts
 * const result = await ipamAdd(request);
 * result.interfaces = [{ name: request.ifName, sandbox: request.netns }];
 * for (const ip of result.ips ?? []) ip.interface = 0;
 * await configureIface(request.ifName, result, { netns: request.netns });
 * ```
 */
export async function configureIface(ifName: string, result: ResultV100, options: ConfigureOptions): Promise<void> {
  const interfaces = result.interfaces ?? [];
  if (interfaces.length === 0) throw new IpamError('no interfaces to configure');
  let nl: Netlink;
  try {
    nl = await openNetlink({ netns: options.netns });
  } catch (error) {
    throw new IpamError(`failed to open netns "${options.netns}": ${errorText(error)}`, { cause: error });
  }
  try {
    await configureWith(nl, ifName, result, options);
  } finally {
    nl.close();
  }
}

async function configureWith(nl: Netlink, ifName: string, result: ResultV100, options: ConfigureOptions): Promise<void> {
  const interfaces = result.interfaces ?? [];
  let index: number;
  try {
    index = (await nl.link.get({ name: ifName })).index;
  } catch (error) {
    throw new IpamError(`failed to lookup "${ifName}": ${errorText(error)}`, { cause: error });
  }
  const sysctl = { netns: options.netns };
  let v4gw: IpAddress | undefined;
  let v6gw: IpAddress | undefined;
  let ipv6Enabled = false;
  let hasIpv6 = false;
  for (const ipc of result.ips ?? []) {
    if (ipc.interface === undefined || ipc.interface === null) continue;
    const at = ipc.interface;
    if (at < 0 || at >= interfaces.length || interfaces[at]!.name !== ifName) {
      throw new IpamError(`failed to add IP addr ${describeIp(ipc)} to "${ifName}": invalid interface index`);
    }
    const cidr = tryParseCidr(ipc.address);
    if (cidr === undefined) throw new IpamError(`failed to add IP addr ${describeIp(ipc)} to "${ifName}": invalid CIDR address: ${ipc.address}`);
    if (cidr.family === 6) {
      hasIpv6 = true;
      if (!ipv6Enabled) {
        for (const iface of ['lo', ifName]) {
          const key = `net/ipv6/conf/${iface}/disable_ipv6`;
          let value: string;
          try {
            value = readSysctl(key, sysctl);
          } catch {
            continue; // Upstream logs and goes on: the kernel may have no IPv6 at all.
          }
          if (value === '0') continue;
          try {
            writeSysctl(key, '0', sysctl);
          } catch (error) {
            throw new IpamError(`failed to enable IPv6 for interface "${iface}" (${key}=${value}): ${errorText(error)}`, { cause: error });
          }
        }
        try {
          writeSysctl(`net/ipv6/conf/${ifName}/keep_addr_on_down`, '1', sysctl);
        } catch (error) {
          throw new IpamError(`failed to enable keep_addr_on_down for interface "${ifName}": ${errorText(error)}`, { cause: error });
        }
        ipv6Enabled = true;
      }
    }
    try {
      await nl.address.add({ index }, ipc.address, cidr.family === 6 && options.dad === 'skip' ? { nodad: true } : {});
    } catch (error) {
      throw new IpamError(`failed to add IP addr ${describeIp(ipc)} to "${ifName}": ${errorText(error)}`, { cause: error });
    }
    const gateway = ipc.gateway === undefined ? undefined : tryParseIp(ipc.gateway);
    if (gateway !== undefined) {
      if (gateway.family === 4) v4gw ??= gateway;
      else v6gw ??= gateway;
    }
  }
  if (options.arpNotify) {
    try {
      writeSysctl(`net/ipv4/conf/${ifName}/arp_notify`, '1', sysctl);
    } catch (error) {
      throw new IpamError(`failed to set arp_notify on "${ifName}": ${errorText(error)}`, { cause: error });
    }
  }
  try {
    await nl.link.setUp({ index });
  } catch (error) {
    throw new IpamError(`failed to set "${ifName}" UP: ${errorText(error)}`, { cause: error });
  }
  if (v6gw !== undefined && hasIpv6 && options.dad !== 'skip') {
    await settleAddresses(nl, index, ifName, options.dadTimeoutMs ?? 5000);
  }
  for (const route of result.routes ?? []) {
    const dst = tryParseCidr(route.dst);
    if (dst === undefined) throw new IpamError(`failed to add route '${route.dst}': invalid CIDR address: ${route.dst}`);
    let gw = route.gw;
    if (gw === undefined || gw === '') gw = (dst.family === 4 ? v4gw : v6gw)?.toString();
    const scope = route.scope === undefined ? undefined : (scopeNames[route.scope] ?? undefined);
    try {
      // Appended, as upstream's RouteAddEcmp: a pod on a second network routing the same
      // destination (0.0.0.0/0 of both) gets both routes rather than an error.
      await nl.route.append({
        dst: dst.masked().toString(),
        link: { index },
        ...(gw === undefined ? {} : { gateway: gw }),
        ...(route.priority === undefined ? {} : { metric: route.priority }),
        ...(route.table === undefined ? {} : { table: route.table }),
        ...(scope === undefined ? {} : { scope }),
      });
    } catch (error) {
      throw new IpamError(
        `failed to add route '${dst.masked().toString()} via ${gw ?? '<nil>'} dev ${ifName} metric ${route.priority ?? 0} ` +
          `(Scope: ${route.scope ?? 0}, Table: ${route.table ?? 0})': ${errorText(error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * Wait until no IPv6 address of the link is tentative (DAD done), as upstream's
 * `ip.SettleAddresses`: a failed DAD is an error; still tentative at the deadline is an error
 * only when the link is operationally up.
 */
async function settleAddresses(nl: Netlink, index: number, ifName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const addresses = await nl.address.list({ link: { index }, family: 6 });
    const failed = addresses.find((a) => (a.flags & DADFAILED) !== 0);
    if (failed !== undefined) {
      throw new IpamError(`failed to settle addresses for "${ifName}": link ${ifName} has address ${failed.address} in DADFAILED state`);
    }
    if (!addresses.some((a) => (a.flags & TENTATIVE) !== 0)) return;
    if (Date.now() >= deadline) {
      // DAD never starts without a carrier: a link whose peer is down is not an error.
      if ((await nl.link.get({ index })).operState !== 'UP') return;
      throw new IpamError(
        `failed to settle addresses for "${ifName}": link ${ifName} still has tentative addresses after ${timeoutMs / 1000} seconds`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
