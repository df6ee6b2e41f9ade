// SPDX-License-Identifier: Apache-2.0
import {
  applyIptablesBatch,
  formatChainNameWithPrefix,
  Iptables,
  IptablesBatch,
  readIptablesSnapshot,
  ruleOption,
  type IpFamily,
  type IptablesOptions,
  type IptablesSnapshot,
} from '@cni/netfilter';
import type { ContainerAddress, PortMapEntry, PortmapRequestConf } from './net-conf.ts';

/** The shared chains of the nat table. Upstream's names: rules written by either implementation are found by the other. */
export const TOP_LEVEL_DNAT_CHAIN = 'CNI-HOSTPORT-DNAT';
export const SET_MARK_CHAIN = 'CNI-HOSTPORT-SETMARK';
export const MARK_MASQ_CHAIN = 'CNI-HOSTPORT-MASQ';
/** Written by plugins before v0.7; DEL still removes what it finds there. */
export const OLD_TOP_LEVEL_SNAT_CHAIN = 'CNI-HOSTPORT-SNAT';

const NAT = 'nat';
const MULTIPORT_MAX = 15;
const COMMENT_MAX = 255;

/** The per-container DNAT chain, `CNI-DN-<hash(network + containerID)>`. */
export function dnatChainName(network: string, containerId: string): string {
  return formatChainNameWithPrefix(network, containerId, 'DN-');
}

/** The comment of the entry rule that jumps to a container's chain. */
export function dnatComment(network: string, containerId: string): string {
  // Upstream formats it with `"%s"` (no escaping); network names and container IDs hold no quote.
  const comment = `dnat name: "${network}" id: "${containerId}"`;
  return comment.length <= COMMENT_MAX ? comment : `${comment.slice(0, COMMENT_MAX - 2)}...`;
}

/** Reads a {@link dnatComment} back; undefined for other comments and for cut ones. */
export function parseDnatComment(comment: string | undefined): { network: string; containerId: string } | undefined {
  const match = comment === undefined ? null : /^dnat name: "([^"]*)" id: "([^"]*)"$/.exec(comment);
  return match ? { network: match[1]!, containerId: match[2]! } : undefined;
}

function markDef(bit: number): string {
  const value = `0x${(2 ** bit).toString(16)}`;
  return `${value}/${value}`;
}

/** `ip:port`, with the IPv6 address in brackets, as `--to-destination` wants it. */
export function formatIpPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Whether a mapping applies to an address family: a hostIP of the other family skips it. */
export function mappingApplies(entry: PortMapEntry, family: 4 | 6): boolean {
  return entry.hostIP === '' || entry.hostIP.includes(':') === (family === 6);
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || /^[0:]+$/.test(address);
}

/** The rules of a container's chain and the entry rules into it, in upstream's order. */
export function dnatRules(conf: PortmapRequestConf, container: ContainerAddress): { entryRules: string[][]; rules: string[][] } {
  const v6 = container.family === 6;
  const comment = dnatComment(conf.name, conf.containerId);
  const setMark = conf.externalSetMarkChain ?? SET_MARK_CHAIN;
  const conditions = v6 ? conf.conditionsV6 : conf.conditionsV4;

  // Every mapping's port goes into multiport's list (upstream does not filter by family there).
  const byProtocol = new Map<string, number[]>();
  for (const entry of conf.portMappings) byProtocol.set(entry.protocol, [...(byProtocol.get(entry.protocol) ?? []), entry.hostPort]);
  const entryRules: string[][] = [];
  for (const protocol of [...byProtocol.keys()].sort()) {
    const ports = byProtocol.get(protocol)!;
    for (let i = 0; i < ports.length; i += MULTIPORT_MAX) {
      const list = ports.slice(i, i + MULTIPORT_MAX).join(',');
      entryRules.push(['-m', 'comment', '--comment', comment, '-m', 'multiport', '-p', protocol, '--destination-ports', list, ...conditions]);
    }
  }

  const rules: string[][] = [];
  for (const entry of conf.portMappings) {
    if (!mappingApplies(entry, container.family)) continue;
    const base = ['-p', entry.protocol, '--dport', String(entry.hostPort)];
    if (entry.hostIP !== '' && !isUnspecified(entry.hostIP)) base.push('-d', entry.hostIP);
    if (conf.snat) {
      rules.push([...base, '-s', conf.masqAll ? (v6 ? '::/0' : '0.0.0.0/0') : container.cidr, '-j', setMark]);
      if (!v6 && !conf.masqAll) rules.push([...base, '-s', '127.0.0.1', '-j', setMark]);
    }
    rules.push([...base, '-j', 'DNAT', '--to-destination', formatIpPort(container.ip, entry.containerPort)]);
  }
  return { entryRules, rules };
}

/**
 * The iptables backend: upstream's chains in the nat table of `iptables` or `ip6tables`.
 * PREROUTING and OUTPUT jump to CNI-HOSTPORT-DNAT for local destinations; it jumps to the
 * container's CNI-DN- chain for the container's ports; that chain marks hairpin and localhost
 * connections for masquerading and DNATs.
 */
export class IptablesMapper {
  readonly #options: IptablesOptions;

  constructor(options: IptablesOptions = {}) {
    this.#options = options;
  }

  #ipt(family: IpFamily): Iptables {
    return new Iptables(family, this.#options);
  }

  /** Listings read ahead by {@link IptablesMapper.usable}, each taken by the first batch of its family. */
  readonly #pending = new Map<IpFamily, IptablesSnapshot>();

  #take(family: IpFamily): IptablesSnapshot | undefined {
    const table = this.#pending.get(family);
    this.#pending.delete(family);
    return table;
  }

  /**
   * True when `iptables` can list the nat table here. The listing is kept for the next command of
   * this mapper, so that backend detection costs no process start of its own: a working nat
   * listing answers the question upstream's `SupportsIPTables` asks (the binary runs, with the
   * permission and the kernel interface it needs).
   */
  async usable(): Promise<boolean> {
    try {
      this.#pending.set(4, await readIptablesSnapshot(this.#ipt(4), NAT));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * ADD for one address: the shared chains made if missing, the container's chain written afresh.
   * A failure removes the container's chain and the shared chains this call made, so a refused ADD
   * leaves the table as it found it.
   */
  async forwardPorts(conf: PortmapRequestConf, container: ContainerAddress): Promise<void> {
    const created = this.#created.get(container.family) ?? [];
    this.#created.set(container.family, created);
    await this.#writeRules(this.#ipt(container.family), conf, container, dnatChainName(conf.name, conf.containerId), created);
  }

  /** The shared chains this mapper made, per family, for {@link IptablesMapper.rollback}. */
  readonly #created = new Map<IpFamily, string[]>();

  /**
   * Undo a failed ADD: the container's chains in both families, and the shared chains this
   * mapper made (with the jumps into them), so a refused ADD leaves the tables as it found them.
   */
  async rollback(network: string, containerId: string): Promise<void> {
    await this.unforwardPorts(network, containerId).catch(() => {});
    for (const [family, created] of this.#created) await this.#rollback(this.#ipt(family), dnatChainName(network, containerId), created);
  }

  async #writeRules(ipt: Iptables, conf: PortmapRequestConf, container: ContainerAddress, chain: string, created: string[]): Promise<void> {
    const { entryRules, rules } = dnatRules(conf, container);
    const build = (table: IptablesSnapshot): IptablesBatch => {
      const batch = new IptablesBatch(table);
      if (conf.snat && conf.externalSetMarkChain === undefined) {
        const mark = markDef(conf.markMasqBit);
        batch.ensureChain(SET_MARK_CHAIN);
        batch.appendUnique(SET_MARK_CHAIN, ['-m', 'comment', '--comment', 'CNI portfwd masquerade mark', '-j', 'MARK', '--set-xmark', mark]);
        batch.ensureChain(MARK_MASQ_CHAIN);
        batch.appendUnique(MARK_MASQ_CHAIN, ['-m', 'mark', '--mark', mark, '-j', 'MASQUERADE']);
        // Prepended, or the bridge and ptp masquerade rules would take the packets first.
        batch.insertUnique('POSTROUTING', ['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', MARK_MASQ_CHAIN]);
      }
      batch.ensureChain(TOP_LEVEL_DNAT_CHAIN);
      for (const entryChain of ['PREROUTING', 'OUTPUT']) {
        batch.appendUnique(entryChain, ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', TOP_LEVEL_DNAT_CHAIN]);
      }
      // A repeated ADD with other mappings must not keep the old ones: the chain is rebuilt.
      batch.deleteJumps(TOP_LEVEL_DNAT_CHAIN, chain);
      batch.resetChain(chain);
      for (const rule of rules) batch.appendUnique(chain, rule);
      for (const rule of entryRules) batch.appendUnique(TOP_LEVEL_DNAT_CHAIN, [...rule, '-j', chain]);
      return batch;
    };
    const applied = await applyIptablesBatch(ipt, NAT, build, this.#take(ipt.family));
    created.push(...applied.created.filter((name) => name !== chain));
  }

  /** Undo a failed ADD: the container's chain, then the shared chains it made (with the jumps into them). */
  async #rollback(ipt: Iptables, chain: string, created: readonly string[]): Promise<void> {
    await this.#teardownChain(ipt, chain, TOP_LEVEL_DNAT_CHAIN);
    const entries: Record<string, string[]> = { [TOP_LEVEL_DNAT_CHAIN]: ['PREROUTING', 'OUTPUT'], [MARK_MASQ_CHAIN]: ['POSTROUTING'], [SET_MARK_CHAIN]: [] };
    for (const name of [TOP_LEVEL_DNAT_CHAIN, MARK_MASQ_CHAIN, SET_MARK_CHAIN]) {
      if (!created.includes(name)) continue;
      for (const entryChain of entries[name]!) await this.#teardownJumps(ipt, name, entryChain);
      await ipt.deleteChain(NAT, name);
    }
  }

  /** CHECK for one address: the container's chain, its rules and its entry rules exist. */
  async checkPorts(conf: PortmapRequestConf, container: ContainerAddress): Promise<void> {
    const ipt = this.#ipt(container.family);
    const chain = dnatChainName(conf.name, conf.containerId);
    if (!(await ipt.chainExists(NAT, chain))) throw new Error(`chain ${chain} not found in ${ipt.command} table ${NAT}`);
    const { entryRules, rules } = dnatRules(conf, container);
    for (const rule of rules) {
      if (!(await ipt.exists(NAT, chain, rule))) throw new Error(`rule "${rule.join(' ')}" not found in ${ipt.command} chain ${chain}`);
    }
    for (const rule of entryRules) {
      if (!(await ipt.exists(NAT, TOP_LEVEL_DNAT_CHAIN, [...rule, '-j', chain]))) {
        throw new Error(`rule "${rule.join(' ')} -j ${chain}" not found in ${ipt.command} chain ${TOP_LEVEL_DNAT_CHAIN}`);
      }
    }
  }

  /**
   * DEL: the container's chain and the rules jumping to it, in both families, with the CNI-SN-
   * chain of old versions. A family whose iptables cannot run is skipped; both failing is an error.
   */
  async unforwardPorts(network: string, containerId: string): Promise<void> {
    const failures: unknown[] = [];
    const chains = [
      [dnatChainName(network, containerId), TOP_LEVEL_DNAT_CHAIN],
      [formatChainNameWithPrefix(network, containerId, 'SN-'), OLD_TOP_LEVEL_SNAT_CHAIN],
    ] as const;
    // The families' tables are independent: both at once, so DEL waits for one listing, not two.
    const apply = async (family: IpFamily): Promise<void> => {
      const ipt = this.#ipt(family);
      let table: IptablesSnapshot;
      try {
        table = this.#take(family) ?? (await readIptablesSnapshot(ipt, NAT));
      } catch (error) {
        failures.push(error);
        return;
      }
      const build = (current: IptablesSnapshot): IptablesBatch => {
        const batch = new IptablesBatch(current);
        for (const [chain, entryChain] of chains) batch.removeChain(chain, entryChain);
        return batch;
      };
      await applyIptablesBatch(ipt, NAT, build, table);
    };
    await Promise.all([apply(4), apply(6)]);
    if (failures.length === 2) {
      throw new Error(`neither iptables nor ip6tables is usable: ${failures.map((error) => (error as Error).message).join('; ')}`);
    }
  }

  /**
   * GC: the chains of `network`'s containers not in `keep`, found through the comments of the
   * entry rules in CNI-HOSTPORT-DNAT (a comment cut at 255 characters cannot be read and is left).
   * Returns the container IDs whose chains went.
   */
  async gc(network: string, keep: ReadonlySet<string>): Promise<string[]> {
    const removed = new Set<string>();
    for (const family of [4, 6] as const) {
      const ipt = this.#ipt(family);
      let listing;
      try {
        listing = await ipt.list(NAT, TOP_LEVEL_DNAT_CHAIN);
      } catch {
        continue;
      }
      const stale = new Set<string>();
      for (const rule of listing.rules) {
        const owner = parseDnatComment(ruleOption(rule.spec, '--comment'));
        if (owner && owner.network === network && !keep.has(owner.containerId)) stale.add(owner.containerId);
      }
      for (const containerId of stale) {
        await this.#teardownChain(ipt, dnatChainName(network, containerId), TOP_LEVEL_DNAT_CHAIN);
        removed.add(containerId);
      }
    }
    return [...removed];
  }

  /** Every rule of `entryChain` that jumps to `chain`, then the chain itself. */
  async #teardownChain(ipt: Iptables, chain: string, entryChain: string): Promise<void> {
    if (!(await ipt.chainExists(NAT, chain))) return;
    await this.#teardownJumps(ipt, chain, entryChain);
    await ipt.deleteChain(NAT, chain);
  }

  async #teardownJumps(ipt: Iptables, chain: string, entryChain: string): Promise<void> {
    const { rules } = await ipt.list(NAT, entryChain);
    for (const rule of rules) {
      if (ruleOption(rule.spec, '-j') === chain) await ipt.delete(NAT, entryChain, rule.spec);
    }
  }
}
