// SPDX-License-Identifier: Apache-2.0
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LeakError } from './errors.ts';
import { netnsName, type NetnsRef } from './exec.ts';
import {
  parseIptablesSave,
  readAddresses,
  readIptablesSave,
  readLinks,
  readNftTables,
  readQdiscs,
  readRoutes,
  readRules,
} from './readers.ts';

/** What a leak check looks at in a namespace, each object as one comparable line. */
export interface NamespaceState {
  /** The namespace, or null for the machine's own. */
  netns: string | null;
  links: string[];
  addresses: string[];
  routes: string[];
  rules: string[];
  qdiscs: string[];
  nftTables: string[];
  iptablesChains: string[];
  iptablesRules: string[];
}

/** A point-in-time record of namespaces and folders, compared later by {@link findLeaks}. */
export interface StateSnapshot {
  namespaces: NamespaceState[];
  /** Every file and folder under the watched folders, as absolute paths. */
  files: string[];
  /** The watched folders. */
  watched: string[];
}

/** Options of {@link takeSnapshot}. */
export interface SnapshotOptions {
  /** Namespaces to record; `null` is the machine's own. */
  namespaces?: readonly (NetnsRef | null)[];
  /** Folders whose files are recorded, recursively (missing folders count as empty). */
  files?: readonly string[];
}

async function iptablesLines(ns: NetnsRef | null, family: 4 | 6): Promise<{ chains: string[]; rules: string[] }> {
  // A machine without ip6tables still gets the IPv4 check.
  const dump = await readIptablesSave(ns, { family }).catch(() => '');
  const chains: string[] = [];
  const rules: string[] = [];
  for (const [table, content] of Object.entries(parseIptablesSave(dump))) {
    for (const chain of Object.keys(content.chains)) chains.push(`ip${family === 6 ? '6' : ''}tables ${table} ${chain}`);
    for (const rule of content.rules) rules.push(`ip${family === 6 ? '6' : ''}tables ${table} ${rule}`);
  }
  return { chains, rules };
}

/** Records the links, addresses, routes, rules, qdiscs, nft tables and iptables chains of one namespace. */
export async function readNamespaceState(ns: NetnsRef | null): Promise<NamespaceState> {
  const [links, addresses, routes4, routes6, rules4, rules6, qdiscs, nftTables, ipt4, ipt6] = await Promise.all([
    readLinks(ns),
    readAddresses(ns),
    readRoutes(ns, { family: 4, table: 'all' }),
    readRoutes(ns, { family: 6, table: 'all' }),
    readRules(ns, 4),
    readRules(ns, 6),
    readQdiscs(ns),
    readNftTables(ns),
    iptablesLines(ns, 4),
    iptablesLines(ns, 6),
  ]);
  return {
    netns: ns === null ? null : netnsName(ns),
    links: links.map((link) => `${link.ifname} ${link.linkinfo?.info_kind ?? link['link_type']}`),
    addresses: addresses.flatMap((link) =>
      link.addr_info
        // Link-local IPv6 addresses come and go with the link itself, which is checked on its own.
        .filter((info) => !(info.family === 'inet6' && info.scope === 'link'))
        .map((info) => `${link.ifname} ${info.local}/${info.prefixlen}`),
    ),
    routes: [...routes4, ...routes6]
      // Local, multicast and IPv6 link-local routes follow addresses and links, checked on their own.
      .filter((route) => route.table !== 'local' && route.type !== 'multicast' && route.dst !== 'fe80::/64')
      .map((route) => `${route.dst}${route.gateway ? ` via ${route.gateway}` : ''}${route.dev ? ` dev ${route.dev}` : ''} table ${route.table ?? 'main'}`),
    rules: [...rules4, ...rules6].map((rule) => {
      const { priority, ...rest } = rule;
      return `${priority} ${JSON.stringify(rest)}`;
    }),
    // Default qdiscs (noqueue, pfifo_fast, mq...) appear with every link; handles 0: are the kernel's own.
    qdiscs: qdiscs.filter((qdisc) => qdisc.handle !== '0:').map((qdisc) => `${qdisc.dev} ${qdisc.kind} ${qdisc.handle} ${qdisc.parent ?? 'root'}`),
    nftTables,
    iptablesChains: [...ipt4.chains, ...ipt6.chains],
    iptablesRules: [...ipt4.rules, ...ipt6.rules],
  };
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return entries.map((entry) => join(root, entry));
}

/**
 * Records the state of namespaces and folders, to be compared after the test with
 * {@link findLeaks} or {@link expectNoLeaks}.
 *
 * @example
 * ```ts
 * const before = await takeSnapshot({ namespaces: [netns.host], files: [dataDir] });
 * await chain.add(); await chain.del();
 * await expectNoLeaks(before);
 * ```
 */
export async function takeSnapshot(options: SnapshotOptions = {}): Promise<StateSnapshot> {
  const watched = [...(options.files ?? [])];
  const [namespaces, files] = await Promise.all([
    Promise.all((options.namespaces ?? []).map((ns) => readNamespaceState(ns))),
    Promise.all(watched.map(listFiles)),
  ]);
  return { namespaces, files: files.flat(), watched };
}

const stateKeys = ['links', 'addresses', 'routes', 'rules', 'qdiscs', 'nftTables', 'iptablesChains', 'iptablesRules'] as const;

/** Options of {@link findLeaks}. */
export interface LeakOptions {
  /**
   * Leak lines that are expected, e.g. state a plugin keeps on purpose across attachments (the
   * bridge, portmap's shared CNI-HOSTPORT-* chains): a line matching any pattern is not reported.
   */
  ignore?: readonly (RegExp | string)[];
}

/**
 * Takes a new snapshot of what `before` recorded and lists every object that is there now and
 * was not then, one line each: `<namespace> <kind>: <object>`. Removed objects are not leaks.
 */
export async function findLeaks(before: StateSnapshot, options: LeakOptions = {}): Promise<string[]> {
  const after = await takeSnapshot({ namespaces: before.namespaces.map((state) => state.netns), files: before.watched });
  const leaks: string[] = [];
  for (const [index, then] of before.namespaces.entries()) {
    const now = after.namespaces[index];
    if (!now) continue;
    const where = then.netns === null ? 'host machine' : `netns "${then.netns}"`;
    for (const key of stateKeys) {
      const old = new Set(then[key]);
      for (const item of now[key]) if (!old.has(item)) leaks.push(`${where} ${key}: ${item}`);
    }
  }
  const oldFiles = new Set(before.files);
  for (const file of after.files) if (!oldFiles.has(file)) leaks.push(`file: ${file}`);
  const ignore = options.ignore ?? [];
  return leaks.filter((leak) => !ignore.some((pattern) => (typeof pattern === 'string' ? leak.includes(pattern) : pattern.test(leak))));
}

/** Throws {@link LeakError} when {@link findLeaks} finds anything. */
export async function expectNoLeaks(before: StateSnapshot, options: LeakOptions = {}): Promise<void> {
  const leaks = await findLeaks(before, options);
  if (leaks.length > 0) throw new LeakError(leaks);
}
