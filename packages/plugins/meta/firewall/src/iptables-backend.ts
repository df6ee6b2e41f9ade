// SPDX-License-Identifier: Apache-2.0
import { applyIptablesBatch, Iptables, IptablesBatch, ruleOption, type IpFamily, type IptablesOptions } from '@cni/netfilter';
import type { FirewallAddress } from './net-conf.ts';

const FILTER = 'filter';
/** Upstream's chain for the per-container rules, entered first from FORWARD. */
export const FORWARD_CHAIN = 'CNI-FORWARD';
/**
 * Beyond upstream: a chain nothing jumps to, holding one `RETURN` rule per container address whose
 * comment names the attachment, so that GC knows which addresses belong to attachments that are
 * gone (upstream's rules name no container).
 */
export const OWNERS_CHAIN = 'CNI-FW-OWNERS';

/** The two rules of one address in CNI-FORWARD. */
export function addressRules(host: string): string[][] {
  return [
    ['-d', host, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ['-s', host, '-j', 'ACCEPT'],
  ];
}

/** The rule in FORWARD that enters CNI-FORWARD. */
export function forwardJumpRule(): string[] {
  return ['-m', 'comment', '--comment', 'CNI firewall plugin rules', '-j', FORWARD_CHAIN];
}

/** The rule at the top of CNI-FORWARD that enters the admin chain. */
export function adminJumpRule(adminChain: string): string[] {
  return ['-m', 'comment', '--comment', 'CNI firewall plugin admin overrides', '-j', adminChain];
}

/** The comment of an owner record: network, container ID and interface, readable back by {@link parseOwnerComment}. */
export function ownerComment(network: string, containerId: string, ifName: string): string {
  return `cni-firewall net=${network} id=${containerId} if=${ifName}`;
}

/** The attachment an owner comment names, or undefined. */
export function parseOwnerComment(comment: string | undefined): { network: string; containerId: string; ifName: string } | undefined {
  const match = comment === undefined ? null : /^cni-firewall net=(\S+) id=(\S+) if=(\S+)$/.exec(comment);
  return match ? { network: match[1]!, containerId: match[2]!, ifName: match[3]! } : undefined;
}

/** The attachment a rule set belongs to. */
export interface Attachment {
  network: string;
  containerId: string;
  ifName: string;
}

/**
 * The iptables backend, as upstream's: `FORWARD` → `CNI-FORWARD` (first rule) → the admin chain
 * (first rule), then per address an ACCEPT of replies to it and of everything from it.
 */
export class IptablesFirewall {
  readonly #options: IptablesOptions;

  constructor(options: IptablesOptions = {}) {
    this.#options = options;
  }

  ipt(family: IpFamily): Iptables {
    return new Iptables(family, this.#options);
  }

  /**
   * ADD: the chains and jumps if missing, the address rules appended once, the owner recorded;
   * per family one listing of the filter table and one atomic `iptables-restore`, so a failure
   * leaves nothing of this ADD behind.
   */
  async add(adminChain: string, addresses: readonly FirewallAddress[], owner: Attachment): Promise<void> {
    for (const family of [4, 6] as const) {
      const mine = addresses.filter((address) => address.family === family);
      if (mine.length === 0) continue;
      await applyIptablesBatch(this.ipt(family), FILTER, (snapshot) => {
        const batch = new IptablesBatch(snapshot);
        batch.ensureChain(FORWARD_CHAIN);
        batch.ensureChain(adminChain);
        batch.insertUnique('FORWARD', forwardJumpRule());
        batch.insertUnique(FORWARD_CHAIN, adminJumpRule(adminChain));
        for (const address of mine) {
          for (const rule of addressRules(address.host)) batch.appendUnique(FORWARD_CHAIN, rule);
        }
        batch.ensureChain(OWNERS_CHAIN);
        for (const address of mine) batch.appendUnique(OWNERS_CHAIN, ownerRule(address.host, owner));
        return batch;
      });
    }
  }

  /**
   * DEL: the address rules and owner records, per family in one listing and one restore;
   * missing ones are fine, and so is every failure (upstream ignores every error).
   */
  async del(addresses: readonly FirewallAddress[], owner: Attachment): Promise<void> {
    for (const family of [4, 6] as const) {
      const mine = addresses.filter((address) => address.family === family);
      if (mine.length === 0) continue;
      const ipt = this.ipt(family);
      const lines = mine.flatMap((address) => [
        ...addressRules(address.host).map((rule) => ['-D', FORWARD_CHAIN, ...rule]),
        ['-D', OWNERS_CHAIN, ...ownerRule(address.host, owner)],
      ]);
      // The common case, every rule there, in one process start: -D matches a rule by its
      // meaning, not by how it is written. When one is missing the batch changes nothing, and
      // the listing says which of them are there.
      if (await ipt.restore(FILTER, lines).then(() => true, () => false)) continue;
      await applyIptablesBatch(ipt, FILTER, (snapshot) => {
        const batch = new IptablesBatch(snapshot);
        for (const address of mine) {
          for (const rule of addressRules(address.host)) batch.delete(FORWARD_CHAIN, rule);
          batch.delete(OWNERS_CHAIN, ownerRule(address.host, owner));
        }
        return batch;
      }).catch(() => undefined);
    }
  }

  /**
   * DEL without prevResult (the runtime's DEL after a failed or killed ADD has no cached result):
   * the addresses this attachment's owner records name, and their rules. Upstream's DEL does
   * nothing then, and an ADD killed after its rules were applied left them for good.
   */
  async delOwned(owner: Attachment): Promise<void> {
    for (const family of [4, 6] as const) {
      const hosts = await this.#owned(family, (named) => named.network === owner.network && named.containerId === owner.containerId && named.ifName === owner.ifName);
      if (hosts.length > 0) await this.del(hosts.map(({ host }) => ({ host, family })), owner);
    }
  }

  /** The owner records of `family` whose attachment `matches`: the address and the record's rule. */
  async #owned(family: IpFamily, matches: (owner: Attachment) => boolean): Promise<{ host: string; spec: string[] }[]> {
    let listing;
    try {
      listing = await this.ipt(family).list(FILTER, OWNERS_CHAIN);
    } catch {
      return [];
    }
    return listing.rules.flatMap((rule) => {
      const owner = parseOwnerComment(ruleOption(rule.spec, '--comment'));
      const host = ruleOption(rule.spec, '-s');
      return owner && host !== undefined && matches(owner) ? [{ host, spec: rule.spec }] : [];
    });
  }

  /** CHECK: the jumps and each address rule exist. */
  async check(adminChain: string, addresses: readonly FirewallAddress[]): Promise<void> {
    for (const family of [4, 6] as const) {
      const mine = addresses.filter((address) => address.family === family);
      if (mine.length === 0) continue;
      const ipt = this.ipt(family);
      for (const chain of [FORWARD_CHAIN, adminChain]) {
        if (!(await ipt.chainExists(FILTER, chain))) throw new Error(`chain ${chain} not found in ${ipt.command} table ${FILTER}`);
      }
      const expected: [string, string[]][] = [
        ['FORWARD', forwardJumpRule()],
        [FORWARD_CHAIN, adminJumpRule(adminChain)],
        ...mine.flatMap((address) => addressRules(address.host).map((rule): [string, string[]] => [FORWARD_CHAIN, rule])),
      ];
      for (const [chain, rule] of expected) {
        if (!(await ipt.exists(FILTER, chain, rule))) throw new Error(`expected ${chain} rule "${rule.join(' ')}" not found in ${ipt.command}`);
      }
    }
  }

  /**
   * GC: the rules of `network`'s attachments not in `keep` (`containerID/ifname`), found through
   * the owner records. Returns the addresses whose rules went.
   */
  async gc(network: string, keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const family of [4, 6] as const) {
      const ipt = this.ipt(family);
      for (const { host, spec } of await this.#owned(family, (owner) => owner.network === network && !keep.has(`${owner.containerId}/${owner.ifName}`))) {
        for (const rule of addressRules(host)) await ipt.delete(FILTER, FORWARD_CHAIN, rule);
        await ipt.delete(FILTER, OWNERS_CHAIN, spec);
        removed.push(host);
      }
    }
    return removed;
  }
}

function ownerRule(host: string, owner: Attachment): string[] {
  return ['-s', host, '-m', 'comment', '--comment', ownerComment(owner.network, owner.containerId, owner.ifName), '-j', 'RETURN'];
}
