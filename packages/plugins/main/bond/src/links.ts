// SPDX-License-Identifier: Apache-2.0
// @cni/sys's: node:crypto would cost this plugin 6-9 ms of its start.
import { randomBytes } from '@cni/sys';
import type { Link, Netlink } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { isLinkGone, messageOf } from '@cni/link';
import type { BondNetConf } from './net-conf.ts';

/** Where a link's state before the bond took it is kept: in its alias, which travels with it between namespaces. */
const STATE_PREFIX = 'cni-bond:';

/** What DEL restores on a link. */
interface LinkState {
  /** Administratively up. */
  u: boolean;
  /** The MAC it had (the bond, or the de-duplication, may change it). */
  m: string | undefined;
  /** The alias it had. */
  a: string;
}

/** The namespace the plugin runs in (the host's): where links taken from the host go back to. */
export const HOST_NETNS = '/proc/thread-self/ns/net';

/**
 * Find the links in their namespace and refuse what would hurt: a link missing, already enslaved,
 * with an MTU below the bond's, or (from the host) one that carries the host's default route or an
 * address, which moving into a pod would cut the host off with.
 */
export async function findLinks(source: Netlink, conf: BondNetConf): Promise<Link[]> {
  const where = conf.linksInContainer ? 'in the container' : 'on the host';
  const found: Link[] = [];
  for (const name of conf.links) {
    const link = await source.link.find({ name });
    if (!link) throw new CniError(CNI_ERROR_CODES.INTERNAL, `link "${name}" of links not found ${where}`);
    if (link.masterIndex !== undefined) {
      const master = await source.link.find({ index: link.masterIndex });
      throw new CniError(CNI_ERROR_CODES.INTERNAL, `link "${name}" of links is already enslaved to "${master?.name ?? link.masterIndex}"`);
    }
    if (conf.mtu > link.mtu) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid MTU ${conf.mtu}, must be [68, MTU of link "${name}" (${link.mtu})]`);
    }
    if (!conf.linksInContainer) await refuseHostLink(source, link);
    found.push(link);
  }
  return found;
}

async function refuseHostLink(host: Netlink, link: Link): Promise<void> {
  for (const family of [4, 6] as const) {
    if ((await host.route.list({ family })).some((route) => route.dst === 'default' && route.linkIndex === link.index)) {
      throw new CniError(
        CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
        `refusing to take link "${link.name}" from the host into a bond: it carries the host's default route`,
      );
    }
  }
  const addresses = (await host.address.list({ link: { index: link.index } })).filter((address) => address.scope !== 'link' && address.scope !== 'host');
  if (addresses.length > 0) {
    throw new CniError(
      CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
      `refusing to take link "${link.name}" from the host into a bond: it has address ${addresses.map((address) => address.cidr).join(', ')}`,
    );
  }
}

/** Remember each link's state in its alias, then (from the host) move it into the container. */
export async function takeLinks(source: Netlink, links: readonly Link[], conf: BondNetConf, netns: string): Promise<void> {
  for (const link of links) {
    const state: LinkState = { u: link.up, m: link.mac, a: link.alias?.startsWith(STATE_PREFIX) ? '' : (link.alias ?? '') };
    let text = STATE_PREFIX + JSON.stringify(state);
    if (text.length > 127) text = STATE_PREFIX + JSON.stringify({ ...state, a: '' }); // an alias too long to keep is dropped
    await source.link.setAlias({ index: link.index }, text);
    if (!conf.linksInContainer) {
      try {
        await source.link.setNetns({ index: link.index }, netns);
      } catch (error) {
        throw new Error(`failed to move link "${link.name}" into the container: ${messageOf(error)}`, { cause: error });
      }
    }
  }
}

/**
 * Enslave the links to the bond (each down, enslaved, up, as bond-cni), giving a link whose MAC
 * another link already has a random locally administered one first: the bond would otherwise
 * see two ports with one address.
 */
export async function enslaveLinks(container: Netlink, conf: BondNetConf, bondIndex: number): Promise<void> {
  const seen = new Set<string>();
  for (const name of conf.links) {
    const link = await container.link.get({ name });
    if (link.mac !== undefined && seen.has(link.mac)) {
      const bytes = randomBytes(6);
      bytes[0] = (bytes[0]! & 0xfe) | 0x02;
      await container.link.setMac({ index: link.index }, [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':'));
    }
    if (link.mac !== undefined) seen.add(link.mac);
    await container.link.setDown({ index: link.index });
    try {
      await container.link.setMaster({ index: link.index }, { index: bondIndex });
    } catch (error) {
      throw new Error(`failed to enslave link "${name}" to bond: ${messageOf(error)}`, { cause: error });
    }
    await container.link.setUp({ index: link.index });
  }
}

/**
 * Give every link back as it was found: released from the bond, its MAC, alias and up state
 * restored, and (when taken from the host) moved back to the host. Links that are gone, or that
 * this plugin never took, are skipped: DEL runs after partial ADDs and more than once.
 */
export async function releaseLinks(container: Netlink | undefined, host: Netlink | undefined, conf: BondNetConf): Promise<void> {
  for (const name of conf.links) {
    // A link may still be on the host when an ADD failed before moving it.
    for (const [nl, inContainer] of [[container, true], [host, false]] as const) {
      if (!nl) continue;
      const link = await nl.link.find({ name });
      if (!link?.alias?.startsWith(STATE_PREFIX)) continue;
      let state: LinkState;
      try {
        state = JSON.parse(link.alias.slice(STATE_PREFIX.length)) as LinkState;
      } catch {
        continue;
      }
      try {
        if (link.masterIndex !== undefined) await nl.link.setNoMaster({ index: link.index });
        await nl.link.setDown({ index: link.index });
        if (state.m && link.mac !== state.m) await nl.link.setMac({ index: link.index }, state.m);
        await nl.link.setAlias({ index: link.index }, state.a);
        let back = nl;
        if (inContainer && !conf.linksInContainer && host) {
          await nl.link.setNetns({ index: link.index }, HOST_NETNS);
          back = host;
        }
        if (state.u) await back.link.setUp({ name });
      } catch (error) {
        if (!isLinkGone(error)) throw new Error(`failed to give link "${name}" back: ${messageOf(error)}`, { cause: error });
      }
    }
  }
}
