// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { NetfilterCommandError } from './errors.ts';

/** What a finished command left behind. A non-zero exit is a result, not a rejection. */
export interface CommandResult {
  /** The command line as executed, the runner's prefix included. */
  command: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of one command run. */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed (e.g. for `iptables-restore`). */
  stdin?: string;
}

/**
 * Runs one binary with an argument array, never through a shell. Injected so that plugins and
 * tests choose where the commands run (the current namespace, or `ip netns exec NS ...`).
 * Rejects only with a {@link NetfilterCommandError} of exit code -1 when the process could not
 * be started at all.
 */
export type CommandRunner = (file: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/** Options of {@link createCommandRunner}. */
export interface CommandRunnerOptions {
  /**
   * Put in front of every command, e.g. `['ip', 'netns', 'exec', 'host1']` to run the
   * binaries inside a named network namespace.
   */
  prefix?: readonly string[];
  /** The environment of the commands; the current process's when left out. */
  env?: NodeJS.ProcessEnv;
  /** Kill a command that runs longer than this; default 60 s (a held xtables lock waits). */
  timeoutMs?: number;
}

/**
 * The runner that executes the real binaries with `child_process.spawn`.
 *
 * @example
 * ```ts
 * const run = createCommandRunner({ prefix: ['ip', 'netns', 'exec', 'host1'] });
 * const { stdout } = await run('iptables-save', ['-t', 'nat']);
 * ```
 */
export function createCommandRunner(options: CommandRunnerOptions = {}): CommandRunner {
  const prefix = options.prefix ?? [];
  const timeout = options.timeoutMs ?? 60_000;
  return (file, args, runOptions = {}) => {
    const argv = [...prefix, file, ...args];
    const [executable, ...rest] = argv as [string, ...string[]];
    return new Promise<CommandResult>((resolve, reject) => {
      const child = spawn(executable, rest, {
        env: options.env ?? process.env,
        stdio: [runOptions.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        timeout,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(new NetfilterCommandError(argv, -1, `${error.code ?? ''} ${error.message}`.trim(), { cause: error }));
      });
      child.on('close', (code, signal) => {
        const err = Buffer.concat(stderr).toString('utf8');
        resolve({
          command: argv,
          exitCode: code ?? 128,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: signal ? `${err}killed by ${signal}` : err,
        });
      });
      if (runOptions.stdin !== undefined) {
        // A command that exits before reading its input must not crash us with EPIPE.
        child.stdin!.on('error', () => {});
        child.stdin!.end(runOptions.stdin);
      }
    });
  };
}

let defaultRunner: CommandRunner | undefined;

/** The runner used when none is given: the binaries in the current namespace, from PATH. */
export function getDefaultRunner(): CommandRunner {
  defaultRunner ??= createCommandRunner();
  return defaultRunner;
}

/** Run a command and return its stdout, or throw a {@link NetfilterCommandError} on a non-zero exit. */
export async function runChecked(runner: CommandRunner, file: string, args: readonly string[], options?: RunOptions): Promise<string> {
  const result = await runner(file, args, options);
  if (result.exitCode !== 0) throw new NetfilterCommandError(result.command, result.exitCode, result.stderr);
  return result.stdout;
}
