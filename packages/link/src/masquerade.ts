// SPDX-License-Identifier: Apache-2.0
// The masquerade recipe of bridge and ptp (`ipMasq`), on either backend, with upstream's chain,
// table and comment names.
import {
  applyWithRetry,
  chooseBackend,
  explainUnavailable,
  formatChainName,
  formatComment,
  Iptables,
  NetfilterCommandError,
  NetfilterError,
  Nftables,
  parseCidr,
  parseComment,
  ruleOption,
  supportsIptables,
  supportsNftables,
  validateContainerId,
  validateInterfaceName,
  validateNetworkName,
  type IpFamily,
  type IptablesOptions,
  type IptablesRule,
  type NetfilterBackend,
  type NftablesOptions,
  type NftCommand,
  type NftRule,
  type NftStatement,
  type ParsedCidr,
} from '@cni/netfilter';
import { masqueradeComment, masqueradeInstanceHash, masqueradeNetworkHash } from './netfilter-names.ts';

/** The nftables table upstream's plugins share for masquerading. */
export const MASQUERADE_TABLE = 'cni_plugins_masquerade';
/** The chain of that table holding one rule per masqueraded address. */
export const MASQUERADE_CHAIN = 'masq_checks';

/** The attachment whose traffic is masqueraded: a container's interface on a network, and its addresses. */
export interface MasqueradeAttachment {
  /** The network name (the config's `name`). */
  network: string;
  /** The container ID (`CNI_CONTAINERID`). */
  containerId: string;
  /** The container interface (`CNI_IFNAME`). The iptables backend ignores it, as upstream's does. */
  ifName: string;
  /**
   * The container's addresses with their prefix, e.g. `10.88.0.2/16`: traffic from the address
   * to anything outside the prefix (multicast excepted) is masqueraded. On teardown an empty
   * list removes every rule of the attachment (upstream removes none from iptables then).
   */
  addresses: readonly string[];
}

/** An attachment as GC names it (`cni.dev/valid-attachments` entries). */
export interface AttachmentRef {
  containerId: string;
  ifName: string;
}

/** Masquerade state found on the host, with the attachment it belongs to where that can be read back. */
export interface MasqueradeEntry {
  backend: NetfilterBackend;
  /** The network, the container ID and (nftables only) the interface, when the comment names them in full. */
  network: string | undefined;
  containerId: string | undefined;
  ifName: string | undefined;
  /** The source addresses masqueraded. */
  addresses: string[];
  /** iptables: the family and the per-attachment chain. */
  family?: IpFamily;
  chain?: string;
  /** nftables: the `<network hash>-<instance hash>` prefix of the rule comments. */
  instanceHash?: string;
}

/** Options of the masquerade functions. */
export interface MasqueradeOptions extends IptablesOptions {
  /** Force a backend; when left out, iptables unless only nftables is usable. */
  backend?: NetfilterBackend;
}

/** One masquerade implementation. Both share this shape so plugins can treat them alike. */
export interface MasqueradeBackend {
  readonly name: NetfilterBackend;
  /** Install the rules; running it again with the same attachment changes nothing. */
  setup(attachment: MasqueradeAttachment): Promise<void>;
  /** Remove the rules of the attachment; succeeds when there are none. */
  teardown(attachment: MasqueradeAttachment): Promise<void>;
  /** Everything of this backend's masquerade state that is found. */
  list(): Promise<MasqueradeEntry[]>;
  /** Remove the entries of `network` whose attachment is not in `valid`; returns what was removed. */
  gc(network: string, valid: readonly AttachmentRef[]): Promise<MasqueradeEntry[]>;
}

interface CheckedAttachment {
  network: string;
  containerId: string;
  ifName: string;
  addresses: ParsedCidr[];
}

function checkAttachment(attachment: MasqueradeAttachment): CheckedAttachment {
  return {
    network: validateNetworkName(attachment.network),
    containerId: validateContainerId(attachment.containerId),
    ifName: validateInterfaceName(attachment.ifName, 'container interface name'),
    addresses: attachment.addresses.map((address) => parseCidr(address)),
  };
}

const MULTICAST: Record<IpFamily, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };
const HOST_PREFIX: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** The rules of a fresh chain and its POSTROUTING jumps, in the order upstream writes them. */
function freshRules(ipt: Iptables, chain: string, tag: readonly string[], addresses: ParsedCidr[]): string[][] {
  // All ACCEPT rules go before the MASQUERADE one: upstream appends them in address order,
  // which leaves the ACCEPT of a second subnet after the MASQUERADE where it never matches.
  const subnets = [...new Set(addresses.map((a) => `${a.network}/${a.prefixLength}`))];
  return [
    ...subnets.map((subnet) => ['-A', chain, '-d', subnet, '-j', 'ACCEPT', ...tag]),
    ['-A', chain, '!', '-d', MULTICAST[ipt.family], '-j', 'MASQUERADE', ...tag],
    ...addresses.map((address) => ['-A', 'POSTROUTING', '-s', address.address, '-j', chain, ...tag]),
  ];
}

/**
 * The common case, a chain that does not exist yet, in one atomic `iptables-restore`: `-N`
 * and every rule. False, with nothing changed, when that batch fails (most often because the
 * chain exists: another interface of the container on this network, or a repeated ADD).
 */
async function setupFresh(ipt: Iptables, chain: string, comment: string, addresses: ParsedCidr[]): Promise<boolean> {
  const tag = ['-m', 'comment', '--comment', comment];
  try {
    await ipt.restore('nat', [['-N', chain], ...freshRules(ipt, chain, tag, addresses)]);
    return true;
  } catch (error) {
    if (NetfilterCommandError.isInstance(error)) return false;
    throw error;
  }
}

/**
 * Every family of the attachment through {@link setupFresh}; true when all of them were fresh.
 * A family that was not falls to the rule-by-rule path of the full setup, which finds the rules
 * the fresh ones wrote.
 */
async function setupAllFresh(attachment: MasqueradeAttachment, options: IptablesOptions): Promise<boolean> {
  const a = checkAttachment(attachment);
  if (a.addresses.length === 0) return false;
  const chain = formatChainName(a.network, a.containerId);
  const comment = formatComment(a.network, a.containerId);
  const done = await Promise.all(
    ([4, 6] as const).map((family) => {
      const addresses = a.addresses.filter((address) => address.family === family);
      return addresses.length === 0 ? true : setupFresh(new Iptables(family, options), chain, comment, addresses);
    }),
  );
  return done.every(Boolean);
}

/**
 * The iptables implementation: per attachment a nat chain `CNI-<hash(network + containerID)>`
 * holding `-d <subnet> -j ACCEPT` and `! -d <multicast> -j MASQUERADE`, entered from
 * POSTROUTING by `-s <address> -j CNI-…`, every rule commented `name: "<net>" id: "<cid>"`,
 * as upstream's plugins write them (so either implementation can remove the other's rules).
 */
export function iptablesMasquerade(options: IptablesOptions = {}): MasqueradeBackend {
  const tables = { 4: new Iptables(4, options), 6: new Iptables(6, options) } as const;

  async function setupFamily(ipt: Iptables, chain: string, comment: string, addresses: ParsedCidr[]): Promise<void> {
    if (await setupFresh(ipt, chain, comment, addresses)) return;
    // The chain exists (or the batch failed for another reason, which the commands below report
    // on their own): rule by rule, each added only where missing.
    const tag = ['-m', 'comment', '--comment', comment];
    const created = await ipt.ensureChain('nat', chain);
    const rules = freshRules(ipt, chain, tag, addresses);
    const subnets = rules.filter((rule) => rule[1] === chain && rule.includes('ACCEPT'));
    const masquerade = rules.find((rule) => rule.includes('MASQUERADE'))!;
    const jumps = rules.filter((rule) => rule[1] === 'POSTROUTING');
    for (const [, , ...spec] of subnets) {
      if (created) await ipt.append('nat', chain, spec);
      else await ipt.insertUnique('nat', chain, 1, spec);
    }
    const [, , ...masqueradeSpec] = masquerade;
    if (created) await ipt.append('nat', chain, masqueradeSpec);
    else await ipt.appendUnique('nat', chain, masqueradeSpec);
    for (const [, , ...spec] of jumps) {
      // No rule can jump to a chain that did not exist a moment ago: skip the check then.
      if (created) await ipt.append('nat', 'POSTROUTING', spec);
      else await ipt.appendUnique('nat', 'POSTROUTING', spec);
    }
  }

  /**
   * The attachment's POSTROUTING jumps and, with the last jump, its chain, in one atomic
   * `iptables-restore` computed from a POSTROUTING listing. The chain is named by a `:CHAIN`
   * line, which under `--noflush` makes or flushes it (iptables-nft and -legacy alike), so that
   * the `-X` after it holds whether or not the chain exists. When the batch fails because the
   * listing went stale (a concurrent teardown or setup), it is computed again from a fresh one.
   */
  async function teardownFamily(
    ipt: Iptables,
    chain: string,
    comment: string,
    addresses: ParsedCidr[] | undefined,
    postrouting?: IptablesRule[],
  ): Promise<void> {
    if (addresses && !postrouting) {
      // The common case first, in one process start and no listing: the jumps of these
      // addresses, which -D finds by meaning, and the chain when nothing else jumps to it. The
      // batch changes nothing when a jump is missing or another one still uses the chain.
      const tag = ['-m', 'comment', '--comment', comment];
      const jumps = addresses.map((a) => ['-D', 'POSTROUTING', '-s', a.address, '-j', chain, ...tag]);
      if (await ipt.restore('nat', [[`:${chain}`, '-', '[0:0]'], ...jumps, ['-X', chain]]).then(() => true, () => false)) return;
    }
    // Both the host form (current) and the subnet form (plugins before v0.7) of the source.
    const sources = addresses?.flatMap((a) => [`${a.address}/${HOST_PREFIX[ipt.family]}`, `${a.network}/${a.prefixLength}`]);
    // POSTROUTING only, not the whole nat table: on a node with kube-proxy that table is large.
    let rules = postrouting ?? (await ipt.list('nat', 'POSTROUTING')).rules;
    for (let attempt = 1; ; attempt++) {
      const jumps = rules.filter((rule) => rule.chain === 'POSTROUTING' && ruleOption(rule.spec, '-j') === chain);
      const ours = jumps.filter(
        (rule) => ruleOption(rule.spec, '--comment') === comment && (!sources || sources.includes(ruleOption(rule.spec, '-s') ?? '')),
      );
      // The chain is shared by the attachment's interfaces on this network: it goes with the last jump.
      const last = jumps.length === ours.length;
      const lines = [...(last ? [[`:${chain}`, '-', '[0:0]']] : []), ...ours.map((rule) => ['-D', 'POSTROUTING', ...rule.spec]), ...(last ? [['-X', chain]] : [])];
      try {
        await ipt.restore('nat', lines);
        return;
      } catch (error) {
        if (attempt >= 3 || !NetfilterCommandError.isInstance(error)) throw error;
        const fresh = (await ipt.list('nat', 'POSTROUTING')).rules;
        if (JSON.stringify(fresh) === JSON.stringify(rules)) throw error;
        rules = fresh;
      }
    }
  }

  function entriesOf(family: IpFamily, chains: string[], rules: IptablesRule[], filter?: (e: MasqueradeEntry) => boolean) {
    const entries = new Map<string, MasqueradeEntry>();
    const entryFor = (chain: string, comment: string | undefined): MasqueradeEntry | undefined => {
      const parsed = comment === undefined ? undefined : parseComment(comment);
      if (!parsed || formatChainName(parsed.name, parsed.id) !== chain) return undefined;
      let entry = entries.get(chain);
      if (!entry) {
        entry = { backend: 'iptables', family, chain, network: parsed.name, containerId: parsed.id, ifName: undefined, addresses: [] };
        entries.set(chain, entry);
      }
      return entry;
    };
    for (const rule of rules) {
      const comment = ruleOption(rule.spec, '--comment');
      if (rule.chain === 'POSTROUTING') {
        const target = ruleOption(rule.spec, '-j');
        const entry = target === undefined ? undefined : entryFor(target, comment);
        const source = ruleOption(rule.spec, '-s');
        if (entry && source) entry.addresses.push(source.replace(/\/(32|128)$/, ''));
      } else if (rule.chain.startsWith('CNI-') && chains.includes(rule.chain)) {
        entryFor(rule.chain, comment);
      }
    }
    return [...entries.values()].filter((entry) => !filter || filter(entry));
  }

  return {
    name: 'iptables',
    async setup(attachment) {
      const a = checkAttachment(attachment);
      const chain = formatChainName(a.network, a.containerId);
      const comment = formatComment(a.network, a.containerId);
      await Promise.all(
        ([4, 6] as const).map((family) => {
          const addresses = a.addresses.filter((address) => address.family === family);
          return addresses.length === 0 ? undefined : setupFamily(tables[family], chain, comment, addresses);
        }),
      );
    },
    async teardown(attachment) {
      const a = checkAttachment(attachment);
      const chain = formatChainName(a.network, a.containerId);
      const comment = formatComment(a.network, a.containerId);
      const all = a.addresses.length === 0;
      await Promise.all(
        ([4, 6] as const).map((family) => {
          const addresses = a.addresses.filter((address) => address.family === family);
          if (!all && addresses.length === 0) return undefined;
          return teardownFamily(tables[family], chain, comment, all ? undefined : addresses);
        }),
      );
    },
    async list() {
      const perFamily = await Promise.all(
        ([4, 6] as const).map(async (family) => {
          const { chains, rules } = await tables[family].list('nat');
          return entriesOf(family, chains, rules);
        }),
      );
      return perFamily.flat();
    },
    async gc(network, valid) {
      validateNetworkName(network);
      // The iptables rules carry no interface name: a container stays as long as any of its attachments is valid.
      const validIds = new Set(valid.map((v) => v.containerId));
      const removed = await Promise.all(
        ([4, 6] as const).map(async (family) => {
          const ipt = tables[family];
          const { chains, rules } = await ipt.list('nat');
          const stale = entriesOf(family, chains, rules, (e) => e.network === network && !validIds.has(e.containerId!));
          for (const entry of stale) {
            await teardownFamily(ipt, entry.chain!, formatComment(entry.network!, entry.containerId!), undefined, rules);
          }
          return stale;
        }),
      );
      return removed.flat();
    },
  };
}

function payloadMatch(protocol: 'ip' | 'ip6', field: 'saddr' | 'daddr', op: '==' | '!=', right: unknown): NftStatement {
  return { match: { op, left: { payload: { protocol, field } }, right } };
}

function prefix(addr: string, len: number) {
  return { prefix: { addr, len } };
}

/**
 * The nftables implementation: table `inet cni_plugins_masquerade`, its base chain
 * `postrouting` (nat, srcnat) refilled on every setup with the multicast returns and a
 * `goto masq_checks`, and in `masq_checks` one rule per address
 * (`ip saddr A ip daddr != SUBNET masquerade`) commented with the attachment's hashes, as
 * upstream's plugins write them. Each change is one nft transaction.
 */
export function nftablesMasquerade(options: NftablesOptions = {}): MasqueradeBackend {
  const nft = new Nftables(options);
  const table = { family: 'inet', name: MASQUERADE_TABLE } as const;
  const chainRef = (name: string) => ({ family: 'inet', table: MASQUERADE_TABLE, name }) as const;

  async function rulesWithPrefix(commentPrefix: string): Promise<NftRule[]> {
    const { rules } = await nft.list(['chain', 'inet', MASQUERADE_TABLE, MASQUERADE_CHAIN]);
    return rules.filter((rule) => rule.comment?.startsWith(commentPrefix));
  }

  function deleteRule(rule: NftRule): NftCommand {
    return { delete: { rule: { family: 'inet', table: MASQUERADE_TABLE, chain: MASQUERADE_CHAIN, handle: rule.handle! } } };
  }

  function entryOf(rule: NftRule): MasqueradeEntry {
    const comment = rule.comment ?? '';
    const instanceHash = comment.slice(0, 33);
    // The readable part may be cut at 128 bytes or hold ", if: " inside a name: trust it only when it hashes back.
    const readable = /^[0-9a-f]{16}-[0-9a-f]{16}, net: (.*), if: (.*), id: (.*)$/.exec(comment);
    const [network, ifName, containerId] = readable ? [readable[1]!, readable[2]!, readable[3]!] : [];
    const trusted = readable !== null && masqueradeInstanceHash(network!, ifName!, containerId!) === instanceHash;
    const addresses: string[] = [];
    for (const statement of rule.expr ?? []) {
      const match = statement.match as { op?: string; left?: { payload?: { field?: string } }; right?: unknown } | undefined;
      if (match?.op === '==' && match.left?.payload?.field === 'saddr' && typeof match.right === 'string') addresses.push(match.right);
    }
    return {
      backend: 'nftables',
      network: trusted ? network : undefined,
      containerId: trusted ? containerId : undefined,
      ifName: trusted ? ifName : undefined,
      addresses,
      instanceHash,
    };
  }

  return {
    name: 'nftables',
    async setup(attachment) {
      const a = checkAttachment(attachment);
      const hash = masqueradeInstanceHash(a.network, a.ifName, a.containerId);
      const comment = masqueradeComment(a.network, a.ifName, a.containerId);
      await applyWithRetry(nft, async () => {
        const stale = await rulesWithPrefix(hash);
        const commands: NftCommand[] = [
          { add: { table: { ...table, comment: 'Masquerading for plugins from github.com/containernetworking/plugins' } } },
          {
            add: {
              chain: {
                ...chainRef(MASQUERADE_CHAIN),
                comment: 'Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet',
              },
            },
          },
          // Made after masq_checks so that its goto has a target; flushed and refilled so that
          // a table written by any version ends up with the current rules.
          { add: { chain: { ...chainRef('postrouting'), type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
          { flush: { chain: chainRef('postrouting') } },
          {
            add: {
              rule: {
                family: 'inet',
                table: MASQUERADE_TABLE,
                chain: 'postrouting',
                expr: [payloadMatch('ip', 'daddr', '==', prefix('224.0.0.0', 4)), { return: null }],
              },
            },
          },
          {
            add: {
              rule: {
                family: 'inet',
                table: MASQUERADE_TABLE,
                chain: 'postrouting',
                expr: [payloadMatch('ip6', 'daddr', '==', prefix('ff00::', 8)), { return: null }],
              },
            },
          },
          { add: { rule: { family: 'inet', table: MASQUERADE_TABLE, chain: 'postrouting', expr: [{ goto: { target: MASQUERADE_CHAIN } }] } } },
          ...stale.map(deleteRule),
        ];
        for (const address of a.addresses) {
          const protocol = address.family === 4 ? 'ip' : 'ip6';
          commands.push({
            add: {
              rule: {
                family: 'inet',
                table: MASQUERADE_TABLE,
                chain: MASQUERADE_CHAIN,
                comment,
                expr: [
                  payloadMatch(protocol, 'saddr', '==', address.address),
                  payloadMatch(protocol, 'daddr', '!=', prefix(address.network, address.prefixLength)),
                  { masquerade: null },
                ],
              },
            },
          });
        }
        return commands;
      });
    },
    async teardown(attachment) {
      const a = checkAttachment(attachment);
      const hash = masqueradeInstanceHash(a.network, a.ifName, a.containerId);
      await applyWithRetry(nft, async () => (await rulesWithPrefix(hash)).map(deleteRule));
    },
    async list() {
      const { rules } = await nft.list(['chain', 'inet', MASQUERADE_TABLE, MASQUERADE_CHAIN]);
      return rules.filter((rule) => /^[0-9a-f]{16}-[0-9a-f]{16}/.test(rule.comment ?? '')).map(entryOf);
    },
    async gc(network, valid) {
      validateNetworkName(network);
      const keep = new Set(valid.map((v) => masqueradeInstanceHash(network, v.ifName, v.containerId)));
      let removed: MasqueradeEntry[] = [];
      await applyWithRetry(nft, async () => {
        const rules = await rulesWithPrefix(`${masqueradeNetworkHash(network)}-`);
        const stale = rules.filter((rule) => !keep.has(rule.comment!.slice(0, 33)));
        removed = stale.map(entryOf);
        return stale.map(deleteRule);
      });
      return removed;
    },
  };
}

function backendOf(name: NetfilterBackend, options: MasqueradeOptions): MasqueradeBackend {
  return name === 'iptables' ? iptablesMasquerade(options) : nftablesMasquerade(options);
}

/**
 * Masquerade the attachment's traffic leaving its subnets, with the backend asked for or the
 * default one (upstream's `SetupIPMasqForNetworks`).
 *
 * @example
 * ```ts
 * await setupIpMasq({ network: 'mynet', containerId: 'c1', ifName: 'eth0', addresses: ['10.88.0.2/16'] });
 * ```
 */
export async function setupIpMasq(attachment: MasqueradeAttachment, options: MasqueradeOptions = {}): Promise<void> {
  // Without a forced backend, first the one-exec iptables batch of a new attachment: when it
  // applies, iptables works here, which is all that detection would have found out, and the
  // detection's own process start is saved.
  if (options.backend === undefined && (await setupAllFresh(attachment, options))) return;
  const backend = await chooseBackend(options.backend, options);
  try {
    await backendOf(backend, options).setup(attachment);
  } catch (error) {
    throw await explainUnavailable(backend, error, options);
  }
}

/**
 * Run `action` on both backends and report the failures of those that are usable: the rules
 * may come from either, and a backend missing on this host cannot hold any.
 */
async function onBothBackends<T>(options: MasqueradeOptions, action: (backend: MasqueradeBackend) => Promise<T>): Promise<T[]> {
  const outcomes = await Promise.allSettled([action(iptablesMasquerade(options)), action(nftablesMasquerade(options))]);
  const usable = [() => supportsIptables(options), () => supportsNftables(options)];
  const values: T[] = [];
  const errors: unknown[] = [];
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') values.push(outcome.value);
    else if (await usable[index]!()) errors.push(outcome.reason);
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new NetfilterError(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'), { cause: errors });
  }
  return values;
}

/**
 * Remove the attachment's masquerade rules from both backends, since it may have been set up
 * by another version or configuration (upstream's `TeardownIPMasqForNetworks`).
 */
export async function teardownIpMasq(attachment: MasqueradeAttachment, options: MasqueradeOptions = {}): Promise<void> {
  checkAttachment(attachment);
  await onBothBackends(options, (backend) => backend.teardown(attachment));
}

/**
 * Remove, from both backends, the masquerade state of `network` whose attachment is not in
 * `valid`; returns what was removed. Upstream does this for nftables only; the iptables
 * rules are found by their comment, which names the network and container.
 */
export async function gcIpMasq(network: string, valid: readonly AttachmentRef[], options: MasqueradeOptions = {}): Promise<MasqueradeEntry[]> {
  validateNetworkName(network);
  return (await onBothBackends(options, (backend) => backend.gc(network, valid))).flat();
}

/** All masquerade state of both backends, with the attachment each entry belongs to. */
export async function listIpMasq(options: MasqueradeOptions = {}): Promise<MasqueradeEntry[]> {
  return (await onBothBackends(options, (backend) => backend.list())).flat();
}
