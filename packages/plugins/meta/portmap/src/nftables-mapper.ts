// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyWithRetry, NetfilterCommandError, formatHashWithPrefix, getDefaultRunner, Nftables, runChecked, type CommandRunner, type NftCommand, type NftRule } from '@cni/netfilter';
import { mappingApplies } from './iptables-mapper.ts';
import type { ContainerAddress, PortmapRequestConf } from './net-conf.ts';

/** Upstream's table, in the `ip` and the `ip6` family. */
export const NFT_TABLE = 'cni_hostport';
/** Upstream's chains: the DNAT rules, the legacy host-IP chain (kept empty), their parent and the masquerade chain. */
export const NFT_HOSTPORTS_CHAIN = 'hostports';
export const NFT_HOSTIP_HOSTPORTS_CHAIN = 'hostip_hostports';
export const NFT_HOSTPORTS_ALL_CHAIN = 'hostports_all';
export const NFT_MASQUERADING_CHAIN = 'masquerading';

/**
 * Beyond upstream: a chain per network, never jumped to, holding one `counter` rule per container
 * whose comment is the container ID. Upstream's rule comments are the container ID alone, so GC
 * could not tell one network's containers from another's without it.
 */
export function nftNetworkChain(network: string): string {
  return `network_${formatHashWithPrefix(16, '', network)}`;
}

type NftFamily = 'ip' | 'ip6';
const familyOf = (address: ContainerAddress): NftFamily => (address.family === 6 ? 'ip6' : 'ip');

/**
 * The nft text of one ADD for one address, as one transaction. Conditions go on each DNAT rule of
 * the container (upstream puts the last ADD's conditions on the shared prerouting and output
 * rules, so that one container's conditions apply to every container's ports).
 */
export function nftAddScript(conf: PortmapRequestConf, container: ContainerAddress, staleHandles: readonly { chain: string; handle: number }[]): string {
  const family = familyOf(container);
  const t = `${family} ${NFT_TABLE}`;
  const comment = JSON.stringify(conf.containerId);
  const conditions = (container.family === 6 ? conf.conditionsV6 : conf.conditionsV4).join(' ');
  const lines = [
    `add table ${t} { comment "CNI portmap plugin"; }`,
    `add chain ${t} ${NFT_HOSTPORTS_CHAIN}`,
    `add chain ${t} ${NFT_HOSTIP_HOSTPORTS_CHAIN}`,
    `add chain ${t} ${NFT_HOSTPORTS_ALL_CHAIN}`,
    `flush chain ${t} ${NFT_HOSTPORTS_ALL_CHAIN}`,
    `add rule ${t} ${NFT_HOSTPORTS_ALL_CHAIN} jump ${NFT_HOSTIP_HOSTPORTS_CHAIN}`,
    `add rule ${t} ${NFT_HOSTPORTS_ALL_CHAIN} jump ${NFT_HOSTPORTS_CHAIN}`,
  ];
  for (const [chain, hook] of [['prerouting', 'prerouting'], ['output', 'output']] as const) {
    lines.push(
      `add chain ${t} ${chain} { type nat hook ${hook} priority -100; }`,
      `flush chain ${t} ${chain}`,
      `add rule ${t} ${chain} fib daddr type local jump ${NFT_HOSTPORTS_ALL_CHAIN}`,
    );
  }
  if (conf.snat) lines.push(`add chain ${t} ${NFT_MASQUERADING_CHAIN} { type nat hook postrouting priority 100; }`);
  const networkChain = nftNetworkChain(conf.name);
  lines.push(`add chain ${t} ${networkChain} { comment ${JSON.stringify(`CNI portmap: containers of network ${conf.name}`.slice(0, 120))}; }`);
  // A repeated ADD replaces the container's rules instead of adding a second set.
  for (const { chain, handle } of staleHandles) lines.push(`delete rule ${t} ${chain} handle ${handle}`);
  lines.push(`add rule ${t} ${networkChain} counter comment ${comment}`);

  const target = container.family === 6 ? `[${container.ip}]` : container.ip;
  for (const entry of conf.portMappings) {
    if (!mappingApplies(entry, container.family)) continue;
    const unspecified = entry.hostIP === '' || entry.hostIP === '0.0.0.0' || /^[0:]+$/.test(entry.hostIP);
    const daddr = unspecified ? '' : `${family} daddr ${entry.hostIP} `;
    const prefix = conditions === '' ? '' : `${conditions} `;
    lines.push(`add rule ${t} ${NFT_HOSTPORTS_CHAIN} ${prefix}${daddr}${entry.protocol} dport ${entry.hostPort} dnat to ${target}:${entry.containerPort} comment ${comment}`);
  }
  if (conf.snat) {
    const source = conf.masqAll ? (container.family === 6 ? '::/0' : '0.0.0.0/0') : container.ip;
    lines.push(`add rule ${t} ${NFT_MASQUERADING_CHAIN} ${family} saddr ${source} ${family} daddr ${container.ip} masquerade comment ${comment}`);
    if (container.family === 4 && !conf.masqAll) {
      lines.push(`add rule ${t} ${NFT_MASQUERADING_CHAIN} ip saddr 127.0.0.1 ip daddr ${container.ip} masquerade comment ${comment}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Run nft text as one transaction, from a private file: nft reads quoted words of a command line
 * differently from a file, and the conditions are nft text we cannot turn into JSON.
 */
async function runScript(runner: CommandRunner, script: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cni-portmap-'));
  try {
    const file = join(dir, 'batch.nft');
    writeFileSync(file, script, { mode: 0o600 });
    await runChecked(runner, 'nft', ['-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const OWN_CHAINS = [NFT_HOSTPORTS_CHAIN, NFT_HOSTIP_HOSTPORTS_CHAIN, NFT_MASQUERADING_CHAIN];

/**
 * The nftables backend: upstream's `cni_hostport` tables, each container's rules recognised by
 * their comment, its container ID.
 */
export class NftablesMapper {
  readonly #runner: CommandRunner;
  readonly #nft: Nftables;

  constructor(options: { runner?: CommandRunner } = {}) {
    this.#runner = options.runner ?? getDefaultRunner();
    this.#nft = new Nftables({ runner: this.#runner });
  }

  readonly #createdTables = new Set<NftFamily>();

  async #tableExists(family: NftFamily): Promise<boolean> {
    try {
      return (await this.#nft.list(['table', family, NFT_TABLE])).tables.length > 0;
    } catch {
      return false;
    }
  }

  /**
   * Undo a failed ADD of this mapper: the container's rules, and the tables this mapper made (the
   * transaction of one family can succeed before the other's fails).
   */
  async rollback(network: string, containerId: string): Promise<void> {
    await this.unforwardPorts(network, containerId);
    for (const family of this.#createdTables) {
      await this.#nft.apply([{ delete: { table: { family, name: NFT_TABLE } } }]).catch(() => {});
    }
  }

  async #rules(family: NftFamily): Promise<NftRule[]> {
    try {
      return (await this.#nft.list(['table', family, NFT_TABLE])).rules;
    } catch (error) {
      // No nft binary: nothing of ours can exist (upstream skips a family it cannot open).
      if (NetfilterCommandError.isInstance(error) && error.exitCode === -1) return [];
      throw error;
    }
  }

  /** ADD for one address, as one nft transaction. */
  async forwardPorts(conf: PortmapRequestConf, container: ContainerAddress): Promise<void> {
    const family = familyOf(container);
    const networkChain = nftNetworkChain(conf.name);
    if (!(await this.#tableExists(family))) this.#createdTables.add(family);
    const stale = (await this.#rules(family))
      .filter((rule) => rule.comment === conf.containerId && [...OWN_CHAINS, networkChain].includes(rule.chain) && rule.handle !== undefined)
      .map((rule) => ({ chain: rule.chain, handle: rule.handle! }));
    try {
      await runScript(this.#runner, nftAddScript(conf, container, stale));
    } catch (error) {
      throw new Error(`unable to set up nftables rules for port mappings: ${(error as Error).message}`, { cause: error });
    }
  }

  /** CHECK for one address: as many DNAT and masquerade rules with the container's comment as ADD writes. */
  async checkPorts(conf: PortmapRequestConf, container: ContainerAddress): Promise<void> {
    const rules = await this.#rules(familyOf(container));
    const count = (chain: string) => rules.filter((rule) => rule.chain === chain && rule.comment === conf.containerId).length;
    const hostPorts = conf.portMappings.filter((entry) => mappingApplies(entry, container.family)).length;
    const masquerades = conf.snat ? (container.family === 4 && !conf.masqAll ? 2 : 1) : 0;
    if (count(NFT_HOSTPORTS_CHAIN) < hostPorts) throw new Error(`missing hostport rules in "${NFT_HOSTPORTS_CHAIN}" chain`);
    if (count(NFT_MASQUERADING_CHAIN) < masquerades) throw new Error(`missing hostport rules in "${NFT_MASQUERADING_CHAIN}" chain`);
  }

  /** DEL: the container's rules in both families' tables; a missing table is nothing to do. */
  async unforwardPorts(network: string, containerId: string): Promise<void> {
    const chains = [...OWN_CHAINS, nftNetworkChain(network)];
    await this.#deleteWhere((rule) => rule.comment === containerId && chains.includes(rule.chain));
  }

  /**
   * GC: the rules of `network`'s containers not in `keep`, the network known from its marker chain.
   * Returns the container IDs whose rules went.
   */
  async gc(network: string, keep: ReadonlySet<string>): Promise<string[]> {
    const networkChain = nftNetworkChain(network);
    const removed = new Set<string>();
    for (const family of ['ip', 'ip6'] as const) {
      const rules = await this.#rules(family);
      for (const rule of rules) {
        if (rule.chain === networkChain && rule.comment !== undefined && !keep.has(rule.comment)) removed.add(rule.comment);
      }
    }
    const chains = [...OWN_CHAINS, networkChain];
    if (removed.size > 0) await this.#deleteWhere((rule) => rule.comment !== undefined && removed.has(rule.comment) && chains.includes(rule.chain));
    return [...removed];
  }

  async #deleteWhere(match: (rule: NftRule) => boolean): Promise<void> {
    for (const family of ['ip', 'ip6'] as const) {
      await applyWithRetry(this.#nft, async () => {
        const rules = await this.#rules(family);
        return rules
          .filter((rule) => match(rule) && rule.handle !== undefined)
          .map((rule): NftCommand => ({ delete: { rule: { family, table: NFT_TABLE, chain: rule.chain, handle: rule.handle! } } }));
      });
    }
  }
}
