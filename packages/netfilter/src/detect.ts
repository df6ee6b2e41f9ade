// SPDX-License-Identifier: Apache-2.0
import { NetfilterCommandError, NetfilterUnavailableError, NetfilterValidationError } from './errors.ts';
import { iptablesCommand, type IptablesVariant } from './iptables.ts';
import { getDefaultRunner, type CommandRunner } from './runner.ts';

/** The two netfilter front ends. */
export type NetfilterBackend = 'iptables' | 'nftables';

/** Options of the detection functions. */
export interface DetectOptions {
  runner?: CommandRunner;
  iptablesVariant?: IptablesVariant;
}

// One answer per runner and variant: a plugin process asks at most once per question.
const iptablesAnswers = new WeakMap<CommandRunner, Map<string, Promise<boolean>>>();
const nftablesAnswers = new WeakMap<CommandRunner, Promise<boolean>>();

/**
 * True when netfilter can be used through the iptables API here (legacy or nft variant):
 * the binary runs and can list the filter table's INPUT chain, which needs permission
 * and a working kernel interface (upstream's `SupportsIPTables`). Says nothing about
 * whether anything else on the host uses iptables.
 */
export function supportsIptables(options: DetectOptions = {}): Promise<boolean> {
  const runner = options.runner ?? getDefaultRunner();
  const command = iptablesCommand(4, options.iptablesVariant);
  let answers = iptablesAnswers.get(runner);
  if (!answers) iptablesAnswers.set(runner, (answers = new Map()));
  let answer = answers.get(command);
  if (!answer) {
    answer = runner(command, ['--wait', '-t', 'filter', '-S', 'INPUT', '1']).then(
      (result) => result.exitCode === 0,
      () => false,
    );
    answers.set(command, answer);
  }
  return answer;
}

/**
 * True when the nftables API itself is usable here: `nft` runs, is v1.0.1 or later, and may
 * create a table (checked with `--check`, nothing is changed), as knftables' constructor
 * checks it (upstream's `SupportsNFTables`).
 */
export function supportsNftables(options: { runner?: CommandRunner } = {}): Promise<boolean> {
  const runner = options.runner ?? getDefaultRunner();
  let answer = nftablesAnswers.get(runner);
  if (!answer) {
    answer = (async () => {
      const version = await runner('nft', ['--version']);
      if (version.exitCode !== 0 || /^nftables v(0\.|1\.0\.0\b)/.test(version.stdout)) return false;
      const check = await runner('nft', [
        '--check',
        '-j',
        JSON.stringify({ nftables: [{ add: { table: { family: 'ip', name: 'supports_nftables_test' } } }] }),
      ]);
      return check.exitCode === 0;
    })().catch(() => false);
    nftablesAnswers.set(runner, answer);
  }
  return answer;
}

/**
 * The backend to use: the one asked for, else iptables unless only nftables is usable
 * (upstream's default since v1.6). Throws on a name that is neither backend.
 */
export async function chooseBackend(requested: string | undefined, options: DetectOptions = {}): Promise<NetfilterBackend> {
  if (requested === 'iptables' || requested === 'nftables') return requested;
  if (requested !== undefined) {
    throw new NetfilterValidationError('backend', requested, 'must be "iptables" or "nftables"');
  }
  if (!(await supportsIptables(options)) && (await supportsNftables(options))) return 'nftables';
  return 'iptables';
}

/**
 * A command failure as a {@link NetfilterUnavailableError} when `backend` cannot work here at all
 * (its binary missing, the kernel lacking it); any other error comes back unchanged.
 */
export async function explainUnavailable(backend: NetfilterBackend, error: unknown, options: DetectOptions = {}): Promise<unknown> {
  if (!NetfilterCommandError.isInstance(error)) return error;
  const usable = backend === 'iptables' ? await supportsIptables(options) : await supportsNftables(options);
  if (usable) return error;
  return new NetfilterUnavailableError(backend, `${backend} is not usable here: ${error.message}`, { cause: error });
}
