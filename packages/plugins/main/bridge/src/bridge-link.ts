// SPDX-License-Identifier: Apache-2.0
import { parseCidr } from '@cni/ip';
import { NetlinkError, type BridgeLink, type Link, type Netlink } from '@cni/netlink';
import { writeSysctl } from '@cni/netns';
import { randomVethName } from '@cni/link';

const ZERO_MAC = '00:00:00:00:00:00';

/** The bridge named `name`, or an error saying what is there instead. */
export async function bridgeByName(host: Netlink, name: string): Promise<BridgeLink> {
  const link = await host.link.find({ name });
  if (!link) throw new Error(`could not lookup "${name}": link not found`);
  if (link.kind !== 'bridge') throw new Error(`"${name}" already exists but is not a bridge`);
  return link;
}

/** Options of {@link ensureBridge}. */
export interface EnsureBridgeOptions {
  name: string;
  /** Only applied when the bridge is created here; 0 leaves the kernel's default. */
  mtu: number;
  promiscMode: boolean;
  /** Only applied when the bridge is created here, as upstream does. */
  vlanFiltering: boolean;
}

/**
 * The bridge, created when missing (an existing link of another kind is an error), promiscuous
 * when asked, `accept_ra=0` (the host must not autoconfigure from a container's router
 * advertisement), up. As upstream's `ensureBridge`.
 */
export async function ensureBridge(host: Netlink, options: EnsureBridgeOptions): Promise<BridgeLink> {
  try {
    await host.link.add({
      kind: 'bridge',
      name: options.name,
      ...(options.mtu ? { mtu: options.mtu } : {}),
      ...(options.vlanFiltering ? { vlanFiltering: true } : {}),
    });
  } catch (error) {
    if (!(NetlinkError.isInstance(error) && error.tag === 'AlreadyExists')) {
      throw new Error(`could not add "${options.name}": ${(error as Error).message}`, { cause: error });
    }
  }
  if (options.promiscMode) {
    await host.link.setPromisc({ name: options.name }, true).catch((error: unknown) => {
      throw new Error(`could not set promiscuous mode on "${options.name}": ${(error as Error).message}`, { cause: error });
    });
  }
  const bridge = await bridgeByName(host, options.name);
  try {
    writeSysctl(`net/ipv6/conf/${options.name}/accept_ra`, '0');
  } catch {
    // IPv6 disabled on the host: nothing to ignore.
  }
  await host.link.setUp({ index: bridge.index });
  return bridge;
}

/**
 * Put the gateway address on the bridge (or the VLAN gateway link), as upstream's `ensureAddr`:
 * nothing to do when it is there; another IPv4 address, or an overlapping IPv6 one, is an error
 * unless `forceAddress` replaces it. Afterwards the bridge's MAC is pinned to itself, so that it
 * no longer follows the lowest port MAC as ports come and go.
 */
export async function ensureAddr(host: Netlink, link: Link, cidr: string, forceAddress: boolean): Promise<void> {
  const wanted = parseCidr(cidr);
  const addresses = await host.address.list({ link: { index: link.index }, family: wanted.family });
  for (const address of addresses) {
    if (address.scope === 'link') continue;
    const existing = parseCidr(address.cidr);
    if (existing.equals(wanted)) return;
    if (wanted.family === 4 || existing.contains(wanted.address) || wanted.contains(existing.address)) {
      if (!forceAddress) throw new Error(`"${link.name}" already has an IP address different from ${cidr}`);
      await host.address.del({ index: link.index }, address.cidr).catch((error: unknown) => {
        throw new Error(`could not remove IP address from "${link.name}": ${(error as Error).message}`, { cause: error });
      });
    }
  }
  try {
    await host.address.add({ index: link.index }, cidr);
  } catch (error) {
    if (!(NetlinkError.isInstance(error) && error.tag === 'AlreadyExists')) {
      throw new Error(`could not add IP address ${cidr} to "${link.name}": ${(error as Error).message}`, { cause: error });
    }
  }
  await pinMac(host, link);
}

/**
 * Pin a bridge's MAC (or a VLAN gateway link's) to itself, as upstream's `ensureAddr` does: a
 * bridge otherwise takes the lowest MAC among its ports, which changes as pods come and go and
 * makes CHECK of earlier pods fail. The MAC the link had when this ADD found it is kept; a bridge
 * whose last port left has none (all zeros), and then the one it has now is pinned.
 */
export async function pinMac(host: Netlink, link: Link): Promise<void> {
  const mac = link.mac && link.mac !== ZERO_MAC ? link.mac : (await host.link.get({ index: link.index })).mac;
  if (mac && mac !== ZERO_MAC) {
    await host.link.setMac({ index: link.index }, mac).catch((error: unknown) => {
      throw new Error(`could not set bridge's mac: ${(error as Error).message}`, { cause: error });
    });
  }
}

/** The bridge port settings of {@link setupBridgePort}. */
export interface BridgePortSettings {
  hairpinMode: boolean;
  portIsolation: boolean;
  vlan: number;
  vlans: readonly number[];
  preserveDefaultVlan: boolean;
}

/**
 * Enslave a host veth to the bridge and set it up as a port, as upstream's `setupVeth`: hairpin,
 * isolation, the default VLAN removed when VLANs are set (unless `preserveDefaultVlan`), `vlan`
 * as untagged PVID, the trunk's VLANs tagged, and VLAN 1 as native PVID for a trunk without `vlan`.
 */
export async function setupBridgePort(host: Netlink, port: Link, bridge: BridgeLink, settings: BridgePortSettings): Promise<void> {
  const selector = { index: port.index };
  await host.link.setMaster(selector, { index: bridge.index }).catch((error: unknown) => {
    throw new Error(`failed to connect "${port.name}" to bridge ${bridge.name}: ${(error as Error).message}`, { cause: error });
  });
  // Written only when on: a kernel without port isolation still serves configs that do not ask for it.
  if (settings.hairpinMode || settings.portIsolation) {
    await host.link.setBridgePort(selector, { hairpin: settings.hairpinMode, isolated: settings.portIsolation }).catch((error: unknown) => {
      throw new Error(`failed to set hairpin mode or isolation on ${port.name}: ${(error as Error).message}`, { cause: error });
    });
  }
  const { vlan, vlans } = settings;
  if ((vlan !== 0 || vlans.length > 0) && !settings.preserveDefaultVlan) {
    const current = (await host.link.bridgeVlanList()).get(port.index) ?? [];
    for (const info of current) await host.link.bridgeVlanDel(selector, { vid: info.vid });
  }
  const add = async (vid: number, pvid: boolean, what: string) =>
    host.link.bridgeVlanAdd(selector, { vid, pvid, untagged: pvid }).catch((error: unknown) => {
      throw new Error(`failed to setup ${what} on interface "${port.name}": ${(error as Error).message}`, { cause: error });
    });
  if (vlan !== 0) await add(vlan, true, 'vlan tag');
  for (const vid of vlans) await add(vid, false, 'vlan tag');
  if (vlan === 0 && vlans.length > 0) await add(1, true, 'default native vlan tag');
}

/**
 * The gateway link of a VLAN, `<bridge>.<vlan>`: a veth whose peer is an untagged port of that
 * VLAN, made once and then reused, as upstream's `ensureVlanInterface`.
 */
export async function ensureVlanInterface(host: Netlink, bridge: BridgeLink, vlan: number, preserveDefaultVlan: boolean): Promise<Link> {
  const name = `${bridge.name}.${vlan}`;
  const existing = await host.link.find({ name });
  if (existing) return existing;
  let peer: string | undefined;
  for (let attempt = 0; attempt < 10 && peer === undefined; attempt++) {
    const candidate = randomVethName();
    try {
      await host.link.add({ kind: 'veth', name, ...(bridge.mtu ? { mtu: bridge.mtu } : {}), peer: { name: candidate, ...(bridge.mtu ? { mtu: bridge.mtu } : {}) } });
      peer = candidate;
    } catch (error) {
      if (NetlinkError.isInstance(error) && error.tag === 'AlreadyExists' && !(await host.link.find({ name }))) continue;
      throw new Error(`failed to create vlan gateway "${name}": ${(error as Error).message}`, { cause: error });
    }
  }
  if (peer === undefined) throw new Error('failed to find a unique veth name');
  try {
    await host.link.setUp({ name: peer });
    try {
      writeSysctl(`net/ipv6/conf/${peer}/accept_ra`, '0');
    } catch {
      // IPv6 disabled on the host.
    }
    await setupBridgePort(host, await host.link.get({ name: peer }), bridge, { hairpinMode: false, portIsolation: false, vlan, vlans: [], preserveDefaultVlan });
    await host.link.setUp({ name });
    return await host.link.get({ name });
  } catch (error) {
    await host.link.del({ name }).catch(() => undefined);
    throw new Error(`failed to create vlan gateway "${name}": ${(error as Error).message}`, { cause: error });
  }
}
