// SPDX-License-Identifier: Apache-2.0
import { parseCidr, parseIp } from '@cni/ip';
import type { Netlink, Route, RouteSpec, RuleSpec } from '@cni/netlink';
import { FIRST_TABLE, type SbrNetConf, type SourceAddress } from './net-conf.ts';

const MAIN_TABLE = 254;

/** What ADD did, in order, so that a failure can take it back. */
export type Undo = () => Promise<void>;

/** A route as read, as the spec that adds or deletes exactly it (in `table`). */
export function routeSpec(route: Route, table = route.table): RouteSpec {
  return {
    dst: route.dst,
    family: route.family,
    table,
    type: route.type,
    protocol: route.protocol,
    onlink: route.onlink,
    ...(route.gateway !== undefined ? { gateway: route.gateway } : {}),
    ...(route.linkIndex !== undefined ? { link: { index: route.linkIndex } } : {}),
    ...(route.src !== undefined ? { src: route.src } : {}),
    ...(typeof route.scope === 'string' ? { scope: route.scope } : {}),
    ...(route.metric !== undefined ? { metric: route.metric } : {}),
    ...(route.mtu !== undefined ? { mtu: route.mtu } : {}),
    ...(route.advmss !== undefined ? { advmss: route.advmss } : {}),
  };
}

/** The host prefix of an address: `/32` or `/128`, as sbr's rules match sources. */
export function hostPrefix(source: Pick<SourceAddress, 'ip' | 'family'>): string {
  return `${source.ip}/${source.family === 4 ? 32 : 128}`;
}

/** Every table a rule or a route of either family names. */
async function tablesInUse(nl: Netlink): Promise<Set<number>> {
  const used = new Set<number>();
  for (const family of [4, 6] as const) {
    for (const rule of await nl.rule.list(family)) used.add(rule.table);
    for (const route of await nl.route.list({ family, table: 'all' })) used.add(route.table);
  }
  return used;
}

function nextFreeTable(used: ReadonlySet<number>, from: number): number {
  let table = from;
  while (used.has(table)) table++;
  return table;
}

/** `from <ip>/32 lookup <table>` for each address: the fixed-table mode (upstream v1.6). */
export async function doRoutesWithTable(nl: Netlink, sources: readonly SourceAddress[], table: number, undo: Undo[]): Promise<void> {
  for (const source of sources) {
    const rule: RuleSpec = { family: source.family, from: hostPrefix(source), table };
    await nl.rule.add(rule);
    undo.push(() => nl.rule.del(rule));
  }
}

function contains(cidr: string, address: string | undefined): boolean {
  if (address === undefined) return false;
  try {
    return parseCidr(cidr).contains(parseIp(address));
  } catch {
    return false;
  }
}

/**
 * The default mode, as upstream's `doRoutes`: for each address a table of its own (the first one
 * from 100 that no rule or route names), the rule `from <ip> lookup <table>`, a default route via
 * the static or the result's gateway, and a copy of the link's routes that belong to it (source or
 * gateway inside its prefix, or neither set); then the link's routes leave the main table (with
 * `addSourceHints`, only those that are not link-scope, and subnet routes get a `src` hint).
 */
export async function doRoutes(nl: Netlink, sources: readonly SourceAddress[], ifName: string, conf: SbrNetConf, undo: Undo[]): Promise<number[]> {
  const used = await tablesInUse(nl);
  const link = await nl.link.get({ name: ifName });
  const routes = [...(await nl.route.list({ family: 4, table: MAIN_TABLE, link: { index: link.index } })), ...(await nl.route.list({ family: 6, table: MAIN_TABLE, link: { index: link.index } }))];
  const tables: number[] = [];
  let table = nextFreeTable(used, FIRST_TABLE);
  for (const source of sources) {
    used.add(table);
    tables.push(table);
    const rule: RuleSpec = { family: source.family, from: hostPrefix(source), table };
    await nl.rule.add(rule);
    undo.push(() => nl.rule.del(rule));

    const gateway = (source.family === 4 ? conf.gateways.v4 : conf.gateways.v6) ?? source.gateway;
    if (gateway !== undefined) {
      const route: RouteSpec = { dst: 'default', family: source.family, gateway, table, link: { index: link.index } };
      await nl.route.add(route);
      undo.push(() => nl.route.del(route));
    }
    for (const route of routes) {
      // Upstream's test, kept as it is: a route with neither source nor gateway belongs to every table.
      if (contains(source.cidr, route.src) || contains(source.cidr, route.gateway) || (route.src === undefined && route.gateway === undefined)) {
        const copy = routeSpec(route, table);
        await nl.route.replace(copy);
        undo.push(() => nl.route.del(copy));
      }
    }
    table = nextFreeTable(used, table + 1);
  }

  if (conf.addSourceHints) {
    for (const source of sources) {
      const subnet = parseCidr(source.cidr).masked().toString();
      const hinted: RouteSpec = { dst: subnet, family: source.family, link: { index: link.index }, src: source.ip, table: MAIN_TABLE, scope: 'link' };
      const previous = routes.find((route) => route.dst === subnet && route.family === source.family);
      await nl.route.replace(hinted);
      undo.push(async () => {
        await nl.route.del(hinted);
        if (previous) await nl.route.add(routeSpec(previous));
      });
    }
  }
  for (const route of routes) {
    if (conf.addSourceHints && route.scope === 'link') continue;
    const spec = routeSpec(route);
    await nl.route.del(spec);
    undo.push(() => nl.route.add(spec));
  }
  return tables;
}

/**
 * DEL, as upstream's `tidyRules` but narrower, so that it removes exactly the rules sbr adds: the
 * rules whose only selector is `from <address>/32|/128` of one of `addresses`, looking up `table` when
 * it is fixed, else a table from 100 on.
 */
export async function tidyRules(nl: Netlink, addresses: readonly { ip: string; family: 4 | 6 }[], table: number | undefined): Promise<void> {
  const wanted = new Set(addresses.map(hostPrefix));
  const failures: string[] = [];
  for (const family of [4, 6] as const) {
    for (const rule of await nl.rule.list(family)) {
      if (rule.from === undefined || !wanted.has(rule.from) || rule.to !== undefined || rule.iif !== undefined || rule.oif !== undefined || rule.action !== 1) continue;
      if (table !== undefined ? rule.table !== table : rule.table < FIRST_TABLE) continue;
      try {
        await nl.rule.del({ family, from: rule.from, table: rule.table, ...(rule.priority !== undefined ? { priority: rule.priority } : {}) });
      } catch (error) {
        failures.push(`failed to delete rule from ${rule.from} lookup ${rule.table}: ${(error as Error).message}`);
      }
    }
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}
