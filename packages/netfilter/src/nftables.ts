// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetfilterCommandError, NetfilterError } from './errors.ts';
import { getDefaultRunner, type CommandRunner } from './runner.ts';

const MAX_ARGUMENT_BYTES = 120_000;

/** The nftables address families. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

/** A table as nft's JSON schema describes it. */
export interface NftTable {
  family: NftFamily;
  name: string;
  handle?: number;
  comment?: string;
}

/** A chain as nft's JSON schema describes it; `type`, `hook`, `prio` and `policy` make it a base chain. */
export interface NftChain {
  family: NftFamily;
  table: string;
  name: string;
  handle?: number;
  type?: 'filter' | 'nat' | 'route';
  hook?: string;
  prio?: number;
  policy?: 'accept' | 'drop';
  comment?: string;
}

/** One statement of a rule in nft's JSON schema (`{ match: ... }`, `{ jump: ... }`, `{ masquerade: null }`, ...). */
export type NftStatement = Record<string, unknown>;

/** A rule as nft's JSON schema describes it. */
export interface NftRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle?: number;
  comment?: string;
  expr?: NftStatement[];
}

/** One command of a JSON batch. */
export type NftCommand =
  | { add: { table: NftTable } | { chain: NftChain } | { rule: NftRule } }
  | { flush: { chain: NftChain } | { table: NftTable } }
  | { delete: { table: NftTable } | { chain: NftChain } | { rule: NftRule } };

/** The objects of a JSON listing. */
export interface NftListing {
  tables: NftTable[];
  chains: NftChain[];
  rules: NftRule[];
}

/** Options of {@link Nftables}. */
export interface NftablesOptions {
  /** How to run `nft`; the current namespace when left out. */
  runner?: CommandRunner;
}

/**
 * The `nft` binary, spoken to in its JSON dialect. Every change is one batch
 * (`nft -j '{"nftables": [...]}'`), which nft applies as a single kernel transaction: concurrent plugins
 * never see half of it. Values travel as JSON strings, so no name or comment can be read as
 * nft syntax.
 *
 * @example
 * ```ts
 * const nft = new Nftables();
 * await nft.apply([{ add: { table: { family: 'inet', name: 'demo' } } }]);
 * const { chains } = await nft.list(['table', 'inet', 'demo']);
 * ```
 */
export class Nftables {
  readonly #runner: CommandRunner;

  constructor(options: NftablesOptions = {}) {
    this.#runner = options.runner ?? getDefaultRunner();
  }

  /**
   * Apply the commands as one transaction. Equivalent to `nft -j '{"nftables": commands}'`
   * (`nft -j -f FILE` for a batch too long for one argument).
   */
  async apply(commands: readonly NftCommand[]): Promise<void> {
    if (commands.length === 0) return;
    await this.#batch([], commands);
  }

  /** Check the commands without applying them. Equivalent to `nft --check -j ...`. */
  async check(commands: readonly NftCommand[]): Promise<void> {
    await this.#batch(['--check'], commands);
  }

  async #batch(flags: readonly string[], commands: readonly NftCommand[]): Promise<void> {
    const text = JSON.stringify({ nftables: commands });
    // nft cannot read `-f -` from the socket Node gives a child as stdin (it opens /dev/stdin:
    // ENXIO), so the batch travels as one argument, or through a private file when it is too
    // long for one (Linux caps an argument at 128 KiB).
    if (Buffer.byteLength(text, 'utf8') <= MAX_ARGUMENT_BYTES) {
      const result = await this.#runner('nft', [...flags, '-j', text]);
      if (result.exitCode !== 0) throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'cni-nft-'));
    try {
      const file = join(dir, 'batch.json');
      writeFileSync(file, text, { mode: 0o600 });
      const result = await this.#runner('nft', [...flags, '-j', '-f', file]);
      if (result.exitCode !== 0) throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * List objects, e.g. `['table', 'bridge', 'nat']` or `['chain', 'inet', 't', 'c']`; a missing
   * table or chain gives an empty listing. Equivalent to `nft -j list ...`.
   */
  async list(what: readonly string[]): Promise<NftListing> {
    const result = await this.#runner('nft', ['-j', 'list', ...what]);
    if (result.exitCode !== 0) {
      const error = new NetfilterCommandError(result.command, result.exitCode, result.stderr);
      if (error.isNotFound) return { tables: [], chains: [], rules: [] };
      throw error;
    }
    return parseNftListing(result.stdout);
  }
}

/** Parse the output of `nft -j list ...` into its tables, chains and rules. */
export function parseNftListing(output: string): NftListing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch (error) {
    throw new NetfilterError(`could not parse nft output ${JSON.stringify(output.slice(0, 200))}`, { cause: error });
  }
  const objects = (parsed as { nftables?: unknown }).nftables;
  if (!Array.isArray(objects)) throw new NetfilterError(`could not find result in nft output ${JSON.stringify(output.slice(0, 200))}`);
  const listing: NftListing = { tables: [], chains: [], rules: [] };
  for (const object of objects as Record<string, unknown>[]) {
    if (object.table) listing.tables.push(object.table as NftTable);
    else if (object.chain) listing.chains.push(object.chain as NftChain);
    else if (object.rule) listing.rules.push(object.rule as NftRule);
  }
  return listing;
}

/**
 * Build a batch (usually from a fresh listing) and apply it; when it fails because something
 * it names is gone, build and apply it again, up to `attempts` times.
 */
export async function applyWithRetry(
  nft: Nftables,
  build: () => Promise<NftCommand[]>,
  attempts = 3,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const commands = await build();
    try {
      await nft.apply(commands);
      return;
    } catch (error) {
      // A rule deleted by handle may already be gone: another plugin run removed it between
      // our listing and our batch. List again and rebuild.
      if (attempt >= attempts || !NetfilterCommandError.isInstance(error) || !error.isNotFound) throw error;
    }
  }
}
