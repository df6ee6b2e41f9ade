// SPDX-License-Identifier: Apache-2.0
import type { Netlink, Route, VrfLink } from '@cni/netlink';
import { messageOf } from '@cni/link';

/** Tables the kernel reserves: unspec, compat, default, main, local. */
const RESERVED_TABLES = new Set([0, 252, 253, 254, 255]);

/** The VRF named `name` in the container, undefined when there is none; a link of another kind is an error. */
export async function findVrf(nl: Netlink, name: string): Promise<VrfLink | undefined> {
  const link = await nl.link.find({ name });
  if (!link) return undefined;
  if (link.kind !== 'vrf') throw new Error(`link "${name}" is a ${link.kind}, not a VRF`);
  return link;
}

/**
 * The lowest routing table that no VRF, route or rule of the namespace uses. Upstream avoids only
 * the tables of other VRFs; a table some other plugin (sbr, a routing daemon) filled is in use too.
 */
export async function findFreeTable(nl: Netlink): Promise<number> {
  const used = new Set<number>(RESERVED_TABLES);
  for (const link of await nl.link.list()) if (link.kind === 'vrf') used.add(link.table);
  for (const family of [4, 6] as const) {
    for (const route of await nl.route.list({ family, table: 'all' })) used.add(route.table);
    for (const rule of await nl.rule.list(family)) used.add(rule.table);
  }
  for (let table = 1; table < 0xffff_ffff; table++) if (!used.has(table)) return table;
  throw new Error('failed to find an available routing table');
}

/** Create the VRF, up; `table` 0 picks a free table. */
export async function createVrf(nl: Netlink, name: string, table: number): Promise<VrfLink> {
  const chosen = table === 0 ? await findFreeTable(nl) : table;
  try {
    await nl.link.add({ kind: 'vrf', name, table: chosen, up: true });
  } catch (error) {
    throw new Error(`could not add VRF "${name}" (table ${chosen}): ${messageOf(error)}`, { cause: error });
  }
  return (await findVrf(nl, name))!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Enslave `ifName` to the VRF, keeping what enslaving loses, as upstream's `addInterface`: the
 * global IPv6 addresses (gone unless keep_addr_on_down) are added back, and the routes through the
 * link in the main table other than the kernel's own (connected, local) are copied into the VRF's
 * table, where the kernel moved the connected ones.
 */
export async function addInterface(nl: Netlink, vrf: VrfLink, ifName: string): Promise<void> {
  const link = await nl.link.find({ name: ifName });
  if (!link) throw new Error(`could not find interface "${ifName}" to put into VRF "${vrf.name}"`);
  if (link.masterIndex !== undefined) {
    const master = await nl.link.find({ index: link.masterIndex });
    throw new Error(`interface "${ifName}" has already a master set: ${master?.name ?? `index ${link.masterIndex}`}`);
  }
  const globalV6 = async () => (await nl.address.list({ link: { index: link.index }, family: 6 })).filter((address) => address.scope === 'global' || address.scope === 0);
  const before = await globalV6();
  const routes: Route[] = [];
  for (const family of [4, 6] as const) {
    for (const route of await nl.route.list({ family, link: { index: link.index } })) {
      // Universe scope: neither the connected (link) nor the local (host) routes the kernel makes.
      if (route.linkIndex === link.index && (route.scope === 'global' || route.scope === 0) && route.type === 'unicast') routes.push(route);
    }
  }
  try {
    await nl.link.setMaster({ index: link.index }, { index: vrf.index });
  } catch (error) {
    throw new Error(`could not set VRF "${vrf.name}" as master of "${ifName}": ${messageOf(error)}`, { cause: error });
  }
  const after = new Set((await globalV6()).map((address) => address.cidr));
  for (const address of before) {
    if (after.has(address.cidr)) continue;
    try {
      await nl.address.add({ index: link.index }, address.cidr, { nodad: true });
    } catch (error) {
      throw new Error(`could not restore address ${address.cidr} to "${ifName}" in VRF "${vrf.name}": ${messageOf(error)}`, { cause: error });
    }
    // The kernel adds the local route into the VRF's table asynchronously: wait for it (about 2.5 s at most).
    for (let attempt = 0; ; attempt++) {
      const local = (await nl.route.list({ family: 6, table: 'all' })).some(
        (route) => route.table === vrf.table && route.dst === `${address.address}/128`,
      );
      if (local) break;
      if (attempt === 8) throw new Error(`failed getting the local route of ${address.cidr} in table ${vrf.table} for "${ifName}"`);
      await sleep(10 * 2 ** attempt);
    }
  }
  for (const route of routes) {
    try {
      await nl.route.replace({
        dst: route.dst,
        family: route.family,
        link: { index: link.index },
        table: vrf.table,
        ...(route.gateway === undefined ? {} : { gateway: route.gateway }),
        ...(route.src === undefined ? {} : { src: route.src }),
        ...(route.metric === undefined ? {} : { metric: route.metric }),
        ...(route.mtu === undefined ? {} : { mtu: route.mtu }),
        ...(route.onlink ? { onlink: true } : {}),
        scope: 'global',
      });
    } catch (error) {
      throw new Error(`could not add route ${route.dst}${route.gateway ? ` via ${route.gateway}` : ''} to table ${vrf.table}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }
}

/** The links enslaved to the VRF. */
export async function members(nl: Netlink, vrf: VrfLink): Promise<string[]> {
  return (await nl.link.list()).filter((link) => link.masterIndex === vrf.index).map((link) => link.name);
}
