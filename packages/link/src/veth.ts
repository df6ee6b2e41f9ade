// SPDX-License-Identifier: Apache-2.0
// @cni/sys's: node:crypto would cost this plugin 6-9 ms of its start.
import { randomBytes } from '@cni/sys';
import { NetlinkError, type Link, type Netlink } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';

/** Options of {@link setupVeth}. */
export interface VethOptions {
  /** The container's namespace (CNI_NETNS). */
  netns: string;
  /** The container side's name (CNI_IFNAME). */
  ifName: string;
  /** Both ends' MTU; 0 or undefined leaves the kernel's default. */
  mtu?: number | undefined;
  /** The container side's MAC; random when undefined. */
  mac?: string | undefined;
  /** The host side's alias (see `attachmentAlias`). */
  alias?: string | undefined;
}

/** Both ends of a veth pair as the kernel reports them after creation. */
export interface VethPair {
  host: Link;
  container: Link;
}

/** `veth` and 8 hex digits of 4 random bytes, as upstream's `RandomVethName`. */
export function randomVethName(): string {
  return `veth${randomBytes(4).toString('hex')}`;
}

function alreadyExists(error: unknown): boolean {
  return NetlinkError.isInstance(error) && error.tag === 'AlreadyExists';
}

/**
 * Make a veth pair: the container end created directly inside the container's namespace under
 * `ifName`, the host end in the namespace the plugin runs in under a random name (10 tries, as
 * upstream), then the host end up with `accept_ra=0` (a router advertisement received on a
 * host veth must not reconfigure the host). Nothing is left behind when it fails.
 */
export async function setupVeth(host: Netlink, container: Netlink, options: VethOptions): Promise<VethPair> {
  const { netns, ifName } = options;
  if (await container.link.find({ name: ifName })) {
    throw new Error(`container veth name "${ifName}" already exists in netns "${netns}"`);
  }
  const mtu = options.mtu ? { mtu: options.mtu } : {};
  let hostName: string | undefined;
  for (let attempt = 0; attempt < 10 && hostName === undefined; attempt++) {
    const name = randomVethName();
    try {
      await host.link.add({
        kind: 'veth',
        name,
        ...mtu,
        ...(options.alias ? { alias: options.alias } : {}),
        peer: { name: ifName, netns, ...mtu, ...(options.mac ? { mac: options.mac } : {}) },
      });
      hostName = name;
    } catch (error) {
      // Only a host name already taken is worth another try; the container name was checked above.
      if (alreadyExists(error) && (await host.link.find({ name }))) continue;
      // The kernel can make the pair and then refuse an attribute (an alias over IFALIASZ is
      // ERANGE after the links exist): remove whatever of the pair is there before reporting.
      await host.link.del({ name }).catch(() => undefined);
      await container.link.del({ name: ifName }).catch(() => undefined);
      throw new Error(`failed to make veth pair: ${(error as Error).message}`, { cause: error });
    }
  }
  if (hostName === undefined) throw new Error('failed to find a unique veth name');
  try {
    await host.link.setUp({ name: hostName });
    try {
      writeSysctl(`net/ipv6/conf/${hostName}/accept_ra`, '0');
    } catch {
      // IPv6 disabled on the host: there is no router advertisement to ignore.
    }
    return { host: await host.link.get({ name: hostName }), container: await container.link.get({ name: ifName }) };
  } catch (error) {
    await host.link.del({ name: hostName }).catch(() => undefined);
    throw error;
  }
}

/** The host end of a container's veth, found by the peer index the container end reports. */
export async function findHostPeer(host: Netlink, container: Link): Promise<Link | undefined> {
  if (container.kind !== 'veth' || container.peerIndex === undefined) return undefined;
  const link = await host.link.find({ index: container.peerIndex });
  return link?.kind === 'veth' ? link : undefined;
}
