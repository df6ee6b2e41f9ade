// SPDX-License-Identifier: Apache-2.0
import { NetfilterCommandError } from './errors.ts';
import { parseIptablesListing, ruleOption, type Iptables, type IptablesRule } from './iptables.ts';

/** One table as one `iptables -t TABLE -S` listing gave it. */
export interface IptablesSnapshot {
  /** The table listed, e.g. `nat`. */
  table: string;
  /** The listing's text: two snapshots with the same text saw the same table. */
  text: string;
  /** The chains, built-in ones included. */
  chains: ReadonlySet<string>;
  rules: readonly IptablesRule[];
}

// Always there, also where iptables-nft lists a table the kernel does not hold yet.
const BUILTIN_CHAINS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** List a whole table in one process start. */
export async function readIptablesSnapshot(ipt: Iptables, table: string): Promise<IptablesSnapshot> {
  const text = await ipt.run(['-t', table, '-S']);
  const { chains, rules } = parseIptablesListing(text);
  return { table, text, chains: new Set([...chains, ...BUILTIN_CHAINS]), rules };
}

const ADDRESS_OPTIONS = new Set(['-s', '--source', '-d', '--destination']);

/** An address as `iptables -S` prints it: with its prefix length, IPv6 in its compressed form. */
function canonicalAddress(value: string): string {
  const [address, length] = value.split('/') as [string, string | undefined];
  const v6 = address.includes(':');
  let canonical = address;
  if (v6) {
    try {
      canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
      // Not an address this parser knows: compare it as written.
    }
  }
  return `${canonical}/${length ?? (v6 ? 128 : 32)}`;
}

/**
 * The words of a rule in a canonical form: addresses with their prefix length, the words
 * sorted, since `iptables -S` prints the matches in its own order (`-s` before `-p`, ...).
 */
export function iptablesRuleKey(spec: readonly string[]): string {
  const words = spec.map((word, index) => (index > 0 && ADDRESS_OPTIONS.has(spec[index - 1]!) ? canonicalAddress(word) : word));
  return words.sort().join('\0');
}

/**
 * The restore lines that bring one table from a snapshot to what a command wants, with the
 * meaning of upstream's one-exec-per-rule helpers (`EnsureChain`, `AppendUnique`, `ClearChain`,
 * `DeleteRule`, `DeleteChain`), for {@link applyIptablesBatch}.
 *
 * Chains are made with `-N`, never with a `:CHAIN` line: under `--noflush`, iptables-nft and
 * iptables-legacy (1.8.9, measured) both flush a chain a `:CHAIN` line names when it exists,
 * which would wipe the rules a concurrent plugin just wrote into it; `-N` instead fails the
 * whole batch when another process made the chain since the snapshot, and the batch is
 * computed again.
 */
export class IptablesBatch {
  /** The restore lines, one array of words each. */
  readonly lines: string[][] = [];
  /** The chains this batch makes. */
  readonly created: string[] = [];
  readonly #snapshot: IptablesSnapshot;
  readonly #chains: Set<string>;
  readonly #keys = new Map<string, Set<string>>();

  constructor(snapshot: IptablesSnapshot) {
    this.#snapshot = snapshot;
    this.#chains = new Set(snapshot.chains);
    for (const rule of snapshot.rules) this.#keysOf(rule.chain).add(iptablesRuleKey(rule.spec));
  }

  #keysOf(chain: string): Set<string> {
    let keys = this.#keys.get(chain);
    if (!keys) this.#keys.set(chain, (keys = new Set()));
    return keys;
  }

  /** True when the chain exists in the snapshot or this batch makes it. */
  hasChain(chain: string): boolean {
    return this.#chains.has(chain);
  }

  /** True when the snapshot, or this batch, has the rule in `chain`. */
  has(chain: string, spec: readonly string[]): boolean {
    return this.#keysOf(chain).has(iptablesRuleKey(spec));
  }

  /** Make `chain` unless it exists. */
  ensureChain(chain: string): void {
    if (this.#chains.has(chain)) return;
    this.#chains.add(chain);
    this.created.push(chain);
    this.lines.push(['-N', chain]);
  }

  /** Append the rule. */
  append(chain: string, spec: readonly string[]): void {
    this.#keysOf(chain).add(iptablesRuleKey(spec));
    this.lines.push(['-A', chain, ...spec]);
  }

  /** Append the rule unless `chain` has it; true when it is appended. */
  appendUnique(chain: string, spec: readonly string[]): boolean {
    if (this.has(chain, spec)) return false;
    this.append(chain, spec);
    return true;
  }

  /** Insert the rule at the top of `chain` unless the chain has it anywhere; true when it is inserted. */
  insertUnique(chain: string, spec: readonly string[]): boolean {
    if (this.has(chain, spec)) return false;
    this.#keysOf(chain).add(iptablesRuleKey(spec));
    this.lines.push(['-I', chain, '1', ...spec]);
    return true;
  }

  /** Delete one copy of the rule when the snapshot has it; true when a `-D` is written. */
  delete(chain: string, spec: readonly string[]): boolean {
    const key = iptablesRuleKey(spec);
    const keys = this.#keysOf(chain);
    if (!keys.has(key)) return false;
    const listed = this.#snapshot.rules.find((rule) => rule.chain === chain && iptablesRuleKey(rule.spec) === key);
    // The listed form is the one `-D` is sure to match; upstream deletes one copy, so does this.
    keys.delete(key);
    this.lines.push(['-D', chain, ...(listed?.spec ?? spec)]);
    return true;
  }

  /** Delete every rule of `entryChain` in the snapshot that jumps to `chain`. */
  deleteJumps(entryChain: string, chain: string): void {
    for (const rule of this.#snapshot.rules) {
      if (rule.chain !== entryChain || ruleOption(rule.spec, '-j') !== chain) continue;
      this.lines.push(['-D', entryChain, ...rule.spec]);
      this.#keysOf(entryChain).delete(iptablesRuleKey(rule.spec));
    }
  }

  /** An empty `chain`: flushed when it exists, made when not. */
  resetChain(chain: string): void {
    this.#keys.get(chain)?.clear();
    if (this.#chains.has(chain)) this.lines.push(['-F', chain]);
    else this.ensureChain(chain);
  }

  /** The jumps from `entryChain` to `chain`, then `chain` itself; nothing when it does not exist. */
  removeChain(chain: string, entryChain: string): void {
    if (!this.#chains.has(chain)) return;
    this.deleteJumps(entryChain, chain);
    this.lines.push(['-F', chain], ['-X', chain]);
    this.#chains.delete(chain);
    this.#keys.delete(chain);
  }
}

/** How many times {@link applyIptablesBatch} computes a batch before it gives up. */
const ATTEMPTS = 5;

/**
 * Compute a batch from a snapshot of `table` and apply it in one `iptables-restore`, so that a
 * command costs two process starts (list, restore) instead of one or two per rule. The batch is
 * atomic; when it fails and a fresh snapshot differs from the one it was computed from (another
 * plugin changed the table in between: it made a chain this batch makes, or removed a rule this
 * batch deletes), it is computed again from the fresh snapshot. A failure on an unchanged table
 * is the batch's own error and is thrown at once. Returns the batch that was applied.
 *
 * @example
 * ```ts
 * await applyIptablesBatch(new Iptables(4), 'nat', (snapshot) => {
 *   const batch = new IptablesBatch(snapshot);
 *   batch.ensureChain('CNI-X');
 *   batch.appendUnique('POSTROUTING', ['-j', 'CNI-X']);
 *   return batch;
 * });
 * ```
 */
export async function applyIptablesBatch(
  ipt: Iptables,
  table: string,
  build: (snapshot: IptablesSnapshot) => IptablesBatch,
  first?: IptablesSnapshot,
): Promise<IptablesBatch> {
  let snapshot = first ?? (await readIptablesSnapshot(ipt, table));
  for (let attempt = 1; ; attempt++) {
    const batch = build(snapshot);
    try {
      await ipt.restore(table, batch.lines);
      return batch;
    } catch (error) {
      if (attempt >= ATTEMPTS || !NetfilterCommandError.isInstance(error)) throw error;
      const fresh = await readIptablesSnapshot(ipt, table);
      if (fresh.text === snapshot.text) throw error;
      snapshot = fresh;
    }
  }
}
