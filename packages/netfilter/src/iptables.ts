// SPDX-License-Identifier: Apache-2.0
import { realpathSync } from 'node:fs';
import { delimiter, join, basename } from 'node:path';
import { NetfilterCommandError } from './errors.ts';
import { getDefaultRunner, type CommandRunner } from './runner.ts';

/** The IP family of an iptables command: 4 runs `iptables`, 6 runs `ip6tables`. */
export type IpFamily = 4 | 6;

/**
 * Which binaries to run. The default follows the host's alternatives (`iptables`,
 * `ip6tables`); `legacy` and `nft` pick Debian's `iptables-legacy` / `iptables-nft` pairs.
 */
export type IptablesVariant = 'default' | 'legacy' | 'nft';

/** Options shared by everything that runs iptables. */
export interface IptablesOptions {
  /** How to run the binaries; the current namespace when left out. */
  runner?: CommandRunner;
  /** Which iptables binaries to run; `default` when left out. */
  iptablesVariant?: IptablesVariant;
}

/** One rule of an `iptables -S` listing: the chain it is in and its rule specification. */
export interface IptablesRule {
  chain: string;
  /** The arguments after `-A <chain>`, ready to pass back to `-C` or `-D`. */
  spec: string[];
}

/** The binary name for a family and variant, e.g. `ip6tables-legacy`. */
export function iptablesCommand(family: IpFamily, variant: IptablesVariant = 'default'): string {
  const base = family === 6 ? 'ip6tables' : 'iptables';
  return variant === 'default' ? base : `${base}-${variant}`;
}

// One answer per binary name and PATH: the lookup and the symlink walk are done once per process.
const restoreCommands = new Map<string, readonly string[]>();

/**
 * The command line (binary and leading arguments) of the `iptables-restore` that belongs to the
 * binary `command`. A variant's name maps to its own restore (`iptables-nft` to
 * `iptables-nft-restore`). The plain `iptables` is looked up on `PATH` and followed through its
 * symlinks: when it is one of the xtables multi-call binaries, the restore is that same binary
 * with the applet as first argument, so a `PATH` that makes `iptables` the legacy one gets the
 * legacy restore even where `iptables-restore` still points to nft (alternatives, or a shim
 * directory with only `iptables` in it). Otherwise `<command>-restore` from `PATH`.
 */
export function iptablesRestoreCommand(command: string, path: string | undefined = process.env['PATH']): readonly string[] {
  const key = `${command}\0${path ?? ''}`;
  const known = restoreCommands.get(key);
  if (known) return known;
  let resolved: readonly string[] = [`${command}-restore`];
  if (command === 'iptables' || command === 'ip6tables') {
    for (const dir of (path ?? '').split(delimiter)) {
      if (dir === '') continue;
      let real: string;
      try {
        real = realpathSync(join(dir, command));
      } catch {
        continue;
      }
      if (/^xtables-(legacy|nft)-multi$/.test(basename(real))) resolved = [real, `${command}-restore`];
      break;
    }
  }
  restoreCommands.set(key, resolved);
  return resolved;
}

/**
 * One line of an `iptables-restore` input from words: a word with white space, quotes,
 * backslashes or `#` (or an empty one) is double-quoted with `\` escapes, as `iptables-save`
 * writes comments, so that the restore parser gives back the same words.
 */
export function formatIptablesWords(words: readonly string[]): string {
  return words.map((word) => (word !== '' && !/[\s"'\\#]/.test(word) ? word : `"${word.replace(/["\\]/g, (char) => `\\${char}`)}"`)).join(' ');
}

/**
 * One iptables binary of one family, with the operations the plugins need, idempotent where
 * upstream's helpers are (`EnsureChain`, `AppendUnique`, `DeleteRule`, ...). Every command
 * carries `--wait`, so that concurrent plugin processes queue on the xtables lock instead of
 * failing.
 *
 * @example
 * ```ts
 * const ipt = new Iptables(4);
 * await ipt.ensureChain('nat', 'CNI-abc');
 * await ipt.appendUnique('nat', 'CNI-abc', ['-d', '10.0.0.0/24', '-j', 'ACCEPT']);
 * ```
 */
export class Iptables {
  /** The IP family. */
  readonly family: IpFamily;
  /** The binary run, e.g. `iptables` or `ip6tables-nft`. */
  readonly command: string;
  readonly #runner: CommandRunner;

  constructor(family: IpFamily, options: IptablesOptions = {}) {
    this.family = family;
    this.command = iptablesCommand(family, options.iptablesVariant);
    this.#runner = options.runner ?? getDefaultRunner();
  }

  /** Run the binary with `--wait` and the given arguments; throws {@link NetfilterCommandError} on failure. */
  async run(args: readonly string[]): Promise<string> {
    const result = await this.#runner(this.command, ['--wait', ...args]);
    if (result.exitCode !== 0) throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
    return result.stdout;
  }

  /**
   * Apply `lines` (restore commands such as `-N CHAIN`, `-A CHAIN ...`, `-D ...`, `-X CHAIN`,
   * each an array of words) to `table` in one `iptables-restore --noflush --wait` run. The
   * kernel takes all of them or none: a failing line leaves the table as it was, which lets a
   * caller that computed the lines from a listing retry from a fresh one after a concurrent
   * change. Nothing runs for an empty list.
   */
  async restore(table: string, lines: readonly (readonly string[])[]): Promise<void> {
    if (lines.length === 0) return;
    const [file, ...lead] = iptablesRestoreCommand(this.command) as [string, ...string[]];
    const input = `*${table}\n${lines.map((line) => formatIptablesWords(line)).join('\n')}\nCOMMIT\n`;
    const result = await this.#runner(file, [...lead, '--noflush', '--wait'], { stdin: input });
    if (result.exitCode !== 0) throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
  }

  /** Run and return the exit code (0 or 1) for the commands whose status 1 is an answer (`-C`, `-S chain`). */
  async #probe(args: readonly string[]): Promise<boolean> {
    const result = await this.#runner(this.command, ['--wait', ...args]);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1) return false;
    throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
  }

  /** True when `chain` exists in `table`. Equivalent to `iptables -t TABLE -S CHAIN 1`. */
  chainExists(table: string, chain: string): Promise<boolean> {
    // '-S chain 1' succeeds for an existing chain whatever its length, and stays cheap on long chains.
    return this.#probe(['-t', table, '-S', chain, '1']);
  }

  /** Create `chain` unless it exists; true when this call created it. Equivalent to `iptables -t TABLE -N CHAIN`. */
  async ensureChain(table: string, chain: string): Promise<boolean> {
    const result = await this.#runner(this.command, ['--wait', '-t', table, '-N', chain]);
    if (result.exitCode === 0) return true;
    // Exit 1 with "Chain already exists" (legacy) or "File exists" (nft): someone made it first.
    if (result.exitCode === 1 && /exists/i.test(result.stderr)) return false;
    throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
  }

  /** True when the rule exists. Equivalent to `iptables -t TABLE -C CHAIN SPEC...`. */
  exists(table: string, chain: string, spec: readonly string[]): Promise<boolean> {
    return this.#probe(['-t', table, '-C', chain, ...spec]);
  }

  /** Append the rule. Equivalent to `iptables -t TABLE -A CHAIN SPEC...`. */
  async append(table: string, chain: string, spec: readonly string[]): Promise<void> {
    await this.run(['-t', table, '-A', chain, ...spec]);
  }

  /** Insert the rule at `position` (1 = first). Equivalent to `iptables -t TABLE -I CHAIN POS SPEC...`. */
  async insert(table: string, chain: string, position: number, spec: readonly string[]): Promise<void> {
    await this.run(['-t', table, '-I', chain, String(position), ...spec]);
  }

  /** Append the rule unless an identical one exists; true when it was added. */
  async appendUnique(table: string, chain: string, spec: readonly string[]): Promise<boolean> {
    if (await this.exists(table, chain, spec)) return false;
    await this.append(table, chain, spec);
    return true;
  }

  /** Insert the rule at `position` unless an identical one exists anywhere in the chain; true when it was added. */
  async insertUnique(table: string, chain: string, position: number, spec: readonly string[]): Promise<boolean> {
    if (await this.exists(table, chain, spec)) return false;
    await this.insert(table, chain, position, spec);
    return true;
  }

  /**
   * Delete the rule; true when one was deleted, false when the rule or the chain was missing.
   * Equivalent to `iptables -t TABLE -D CHAIN SPEC...`.
   */
  async delete(table: string, chain: string, spec: readonly string[]): Promise<boolean> {
    try {
      await this.run(['-t', table, '-D', chain, ...spec]);
      return true;
    } catch (error) {
      if (NetfilterCommandError.isInstance(error) && (error.isNotFound || !(await this.chainExists(table, chain)))) return false;
      throw error;
    }
  }

  /** Flush the chain, creating it when missing (upstream's `ClearChain`). */
  async clearChain(table: string, chain: string): Promise<void> {
    if (!(await this.ensureChain(table, chain))) await this.run(['-t', table, '-F', chain]);
  }

  /**
   * Flush and delete the chain; false when it did not exist. Equivalent to
   * `iptables -t TABLE -F CHAIN; iptables -t TABLE -X CHAIN`.
   */
  async deleteChain(table: string, chain: string): Promise<boolean> {
    try {
      await this.run(['-t', table, '-F', chain]);
      await this.run(['-t', table, '-X', chain]);
      return true;
    } catch (error) {
      if (NetfilterCommandError.isInstance(error) && (error.isNotFound || !(await this.chainExists(table, chain)))) return false;
      throw error;
    }
  }

  /**
   * The chains and rules of a table (or of one chain), parsed from `iptables -t TABLE -S [CHAIN]`.
   * A missing chain gives an empty listing.
   */
  async list(table: string, chain?: string): Promise<{ chains: string[]; rules: IptablesRule[] }> {
    let output: string;
    try {
      output = await this.run(['-t', table, '-S', ...(chain === undefined ? [] : [chain])]);
    } catch (error) {
      // iptables-nft 1.8.9 calls a missing chain "incompatible": ask again before giving up.
      if (chain !== undefined && NetfilterCommandError.isInstance(error) && (error.isNotFound || !(await this.chainExists(table, chain)))) {
        return { chains: [], rules: [] };
      }
      throw error;
    }
    return parseIptablesListing(output);
  }
}

/** Parse the output of `iptables -S` (chain declarations and `-A` rules). */
export function parseIptablesListing(output: string): { chains: string[]; rules: IptablesRule[] } {
  const chains: string[] = [];
  const rules: IptablesRule[] = [];
  for (const line of output.split('\n')) {
    const words = splitIptablesWords(line);
    const [flag, chain, ...rest] = words;
    if (chain === undefined) continue;
    if (flag === '-P' || flag === '-N') chains.push(chain);
    else if (flag === '-A') rules.push({ chain, spec: rest });
  }
  return { chains, rules };
}

/**
 * Split one line of `iptables -S` / `iptables-save` into words: white space separates, double
 * quotes group, and a backslash inside quotes escapes the next character (how xtables prints
 * comments).
 */
export function splitIptablesWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '\\' && i + 1 < line.length) current += line[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inWord = true;
    } else if (char === ' ' || char === '\t') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The value of an option in a rule specification, e.g. `--comment` or `-j`. */
export function ruleOption(spec: readonly string[], option: string): string | undefined {
  const index = spec.indexOf(option);
  return index === -1 ? undefined : spec[index + 1];
}
