// SPDX-License-Identifier: Apache-2.0
import { exec, netnsName, run, type NetnsRef } from './exec.ts';

// The readers run iproute2, nft and iptables-save: an oracle that shares no code with @cni/netlink
// or @cni/netfilter. Their JSON is typed loosely on purpose: the fields tests look at are named,
// everything else iproute2 prints is still there.

/** A link as `ip -j link show` prints it. */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  master?: string;
  link?: string | null;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: Record<string, unknown> };
  [key: string]: unknown;
}

/** One address of a link, as `ip -j addr show` prints it in `addr_info`. */
export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  broadcast?: string;
  label?: string;
  [key: string]: unknown;
}

/** A link with its addresses, as `ip -j addr show` prints it. */
export interface IpAddrLink extends IpLink {
  addr_info: IpAddrInfo[];
}

/** A route as `ip -j route show` prints it. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
  type?: string;
  flags: string[];
  [key: string]: unknown;
}

/** A policy routing rule as `ip -j rule show` prints it. */
export interface IpRule {
  priority: number;
  src: string;
  srclen?: number;
  dst?: string;
  table: string;
  [key: string]: unknown;
}

/** A neighbour entry as `ip -j neigh show` prints it. */
export interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
  [key: string]: unknown;
}

/** A qdisc, class or filter as `tc -j` prints it. */
export interface TcObject {
  kind: string;
  handle?: string;
  parent?: string;
  dev?: string;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One element of `nft -j list ruleset`'s `nftables` array: `{ table: {...} }`, `{ chain: {...} }`, `{ rule: {...} }`... */
export type NftObject = Record<string, Record<string, unknown>>;

/** The IP family of a reader: 4 for IPv4 only, 6 for IPv6 only, undefined for both. */
export type IpFamily = 4 | 6;

/**
 * Runs `ip [-n <ns>] -j <args...>` and parses its JSON. A null namespace reads the test
 * process's own (only ever to check that it was left alone).
 *
 * @example
 * ```ts
 * const [link] = await ipJson<IpLink[]>(netns.container, ['link', 'show', 'eth0']);
 * ```
 */
export async function ipJson<T = unknown>(ns: NetnsRef | null, args: readonly string[]): Promise<T> {
  const prefix = ns === null ? ['ip', '-j'] : ['ip', '-n', netnsName(ns), '-j'];
  const { stdout } = await run([...prefix, ...args]);
  // `ip -j` prints nothing at all for some empty dumps.
  return JSON.parse(stdout.trim() === '' ? '[]' : stdout) as T;
}

function familyFlag(family: IpFamily | undefined): string[] {
  return family === undefined ? [] : [`-${family}`];
}

/** The links of a namespace, or the one named `dev` (`ip -j -d link show`, details included). */
export async function readLinks(ns: NetnsRef | null, dev?: string): Promise<IpLink[]> {
  return ipJson<IpLink[]>(ns, ['-d', 'link', 'show', ...(dev === undefined ? [] : ['dev', dev])]);
}

/** One link by name, or undefined when it does not exist. */
export async function readLink(ns: NetnsRef | null, dev: string): Promise<IpLink | undefined> {
  const links = await readLinks(ns);
  return links.find((link) => link.ifname === dev);
}

/** The links of a namespace with their addresses (`ip -j addr show`). */
export async function readAddresses(ns: NetnsRef | null, options: { dev?: string; family?: IpFamily } = {}): Promise<IpAddrLink[]> {
  return ipJson<IpAddrLink[]>(ns, [...familyFlag(options.family), 'addr', 'show', ...(options.dev === undefined ? [] : ['dev', options.dev])]);
}

/** The addresses of one link as `address/prefix` strings, link-local IPv6 left out. */
export async function readAddressList(ns: NetnsRef | null, dev: string, family?: IpFamily): Promise<string[]> {
  const links = await readAddresses(ns, family === undefined ? { dev } : { dev, family });
  return links.flatMap((link) =>
    link.addr_info.filter((info) => info.scope !== 'link').map((info) => `${info.local}/${info.prefixlen}`),
  );
}

/** The routes of a namespace (`ip -j [-4|-6] route show [table <table>]`). `table: 'all'` lists every table. */
export async function readRoutes(ns: NetnsRef | null, options: { family?: IpFamily; table?: string | number } = {}): Promise<IpRoute[]> {
  const table = options.table === undefined ? [] : ['table', String(options.table)];
  return ipJson<IpRoute[]>(ns, [...familyFlag(options.family), 'route', 'show', ...table]);
}

/** The policy routing rules of a namespace (`ip -j [-4|-6] rule show`). */
export async function readRules(ns: NetnsRef | null, family?: IpFamily): Promise<IpRule[]> {
  return ipJson<IpRule[]>(ns, [...familyFlag(family), 'rule', 'show']);
}

/** The neighbour entries of a namespace (`ip -j [-4|-6] neigh show [dev <dev>]`). */
export async function readNeighbours(ns: NetnsRef | null, options: { dev?: string; family?: IpFamily } = {}): Promise<IpNeigh[]> {
  return ipJson<IpNeigh[]>(ns, [...familyFlag(options.family), 'neigh', 'show', ...(options.dev === undefined ? [] : ['dev', options.dev])]);
}

/**
 * Runs `tc [-n <ns>] -j <args...>` and parses its JSON.
 *
 * @example
 * ```ts
 * const qdiscs = await tcJson<TcObject[]>(netns.host, ['qdisc', 'show', 'dev', 'veth0']);
 * ```
 */
export async function tcJson<T = TcObject[]>(ns: NetnsRef | null, args: readonly string[]): Promise<T> {
  const prefix = ns === null ? ['tc', '-j'] : ['tc', '-n', netnsName(ns), '-j'];
  const { stdout } = await run([...prefix, ...args]);
  return JSON.parse(stdout.trim() === '' ? '[]' : stdout) as T;
}

/** The qdiscs of a namespace, or of one link (`tc -j qdisc show [dev <dev>]`). */
export async function readQdiscs(ns: NetnsRef | null, dev?: string): Promise<TcObject[]> {
  return tcJson(ns, ['qdisc', 'show', ...(dev === undefined ? [] : ['dev', dev])]);
}

/** The whole nftables ruleset of a namespace (`nft -j list ruleset`), metainfo left out. */
export async function readNftRuleset(ns: NetnsRef | null): Promise<NftObject[]> {
  const { stdout } = await exec(ns, ['nft', '-j', 'list', 'ruleset']);
  const parsed = JSON.parse(stdout) as { nftables: NftObject[] };
  return parsed.nftables.filter((entry) => !('metainfo' in entry));
}

/** The nftables tables of a namespace as `family name` strings, e.g. `inet cni_plugins_masquerade`. */
export async function readNftTables(ns: NetnsRef | null): Promise<string[]> {
  const ruleset = await readNftRuleset(ns);
  return ruleset.flatMap((entry) => (entry['table'] ? [`${String(entry['table']['family'])} ${String(entry['table']['name'])}`] : []));
}

/**
 * The output of `iptables-save` (or `ip6tables-save` for family 6) inside a namespace, optionally
 * for one table.
 */
export async function readIptablesSave(ns: NetnsRef | null, options: { family?: IpFamily; table?: string } = {}): Promise<string> {
  const tool = options.family === 6 ? 'ip6tables-save' : 'iptables-save';
  const { stdout } = await exec(ns, [tool, ...(options.table === undefined ? [] : ['-t', options.table])]);
  return stdout;
}

/** One table of an iptables-save dump: its chains (with policies) and its rules, in order. */
export interface IptablesTable {
  chains: Record<string, string>;
  rules: string[];
}

/**
 * Parses `iptables-save` output into tables of chains and rules, counters and comments dropped.
 *
 * @example
 * ```ts
 * const tables = parseIptablesSave(await readIptablesSave(netns.host));
 * expect(tables.nat?.chains).toHaveProperty('CNI-HOSTPORT-DNAT');
 * ```
 */
export function parseIptablesSave(dump: string): Record<string, IptablesTable> {
  const tables: Record<string, IptablesTable> = {};
  let current: IptablesTable | undefined;
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) {
      current = { chains: {}, rules: [] };
      tables[line.slice(1).trim()] = current;
    } else if (line.startsWith(':') && current) {
      const [name = '', policy = '-'] = line.slice(1).split(' ');
      current.chains[name] = policy;
    } else if (line.startsWith('-A ') && current) {
      current.rules.push(line);
    }
  }
  return tables;
}
