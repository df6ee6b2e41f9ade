// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { LinkNotFoundError, NetlinkError, type Netlink, type Qdisc, type TbfQdisc } from '@cni/netlink';

/** Upstream's latency bound of the token bucket: limit = rate * 25 ms + burst. */
export const LATENCY_MS = 25;

/** The prefix of upstream's ifb names (`bwp` + the sha512 of network name and container ID). */
export const IFB_PREFIX = 'bwp';

/** The alias our ifbs carry, so GC can tell this network's from others' (upstream sets none). */
export const IFB_ALIAS_PREFIX = 'cni-bandwidth';

/** The ifb's name, as upstream's `getIfbDeviceName`: 15 characters of `bwp<sha512 hex>`. */
export function ifbName(network: string, containerId: string): string {
  return `${IFB_PREFIX}${createHash('sha512').update(network + containerId).digest('hex')}`.slice(0, 15);
}

/** The alias of the ifb of one attachment: `cni-bandwidth <network> <containerID>`. */
export function ifbAlias(network: string, containerId: string): string {
  return `${IFB_ALIAS_PREFIX} ${network} ${containerId}`;
}

/**
 * The token bucket upstream installs for a rate and burst in bits: rate and burst in bytes
 * (truncated, as Go's integer division), limit = rate * 25 ms + burst (truncated).
 */
export function tbfFor(rateBits: number, burstBits: number): TbfQdisc & { limit: number } {
  const rate = Math.floor(rateBits / 8);
  const burst = Math.floor(burstBits / 8);
  return { kind: 'tbf', parent: 'root', handle: '1:', rate, burst, limit: Math.floor((rate * LATENCY_MS) / 1000) + burst };
}

/**
 * Ingress shaping (traffic to the container): a root TBF on the host veth.
 * Equivalent to `tc qdisc add dev <veth> root handle 1: tbf rate R burst B limit L`.
 */
export async function createIngressQdisc(host: Netlink, hostVeth: string, rateBits: number, burstBits: number): Promise<void> {
  await host.qdisc.add({ name: hostVeth }, tbfFor(rateBits, burstBits));
}

/**
 * Egress shaping (traffic from the container): the host veth's ingress qdisc (which the caller
 * adds first) redirects every packet to the ifb, whose root TBF shapes it.
 */
export async function createEgressQdisc(host: Netlink, hostVeth: string, ifb: string, rateBits: number, burstBits: number): Promise<void> {
  await host.filter.add({ name: hostVeth }, { kind: 'u32', parent: 'ffff:', priority: 1, protocol: 'all', action: { kind: 'mirred', mode: 'redirect', direction: 'egress', link: { name: ifb } } });
  await host.qdisc.add({ name: ifb }, tbfFor(rateBits, burstBits));
}

/** Deletes a link, which takes its qdiscs with it; a missing one is fine. */
export async function deleteLinkIfExists(host: Netlink, name: string): Promise<void> {
  try {
    await host.link.del({ name });
  } catch (error) {
    if (!LinkNotFoundError.isInstance(error)) throw error;
  }
}

/** Deletes the qdiscs ADD put on the host veth (root TBF, ingress); missing ones are fine. */
export async function deleteVethQdiscs(host: Netlink, hostVeth: string): Promise<void> {
  const qdiscs = await host.qdisc.list({ name: hostVeth });
  for (const qdisc of qdiscs) {
    try {
      if (qdisc.kind === 'tbf' && qdisc.parent === 'root') await host.qdisc.del({ name: hostVeth }, { parent: 'root', handle: qdisc.handle });
      if (qdisc.kind === 'ingress') await host.qdisc.del({ name: hostVeth }, { kind: 'ingress' });
    } catch (error) {
      if (!(NetlinkError.isInstance(error) && (error.tag === 'NotFound' || error.tag === 'InvalidArgument'))) throw error;
    }
  }
}

/** The root TBF of a link, or undefined. */
export function rootTbf(qdiscs: readonly Qdisc[]): Qdisc | undefined {
  return qdiscs.find((qdisc) => qdisc.kind === 'tbf' && qdisc.parent === 'root');
}
