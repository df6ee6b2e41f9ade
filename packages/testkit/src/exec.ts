// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { CommandError } from './errors.ts';

/** A network namespace made by the test kit, or the name of one under /var/run/netns. */
export type NetnsRef = string | { readonly name: string; readonly path?: string };

/** The name under /var/run/netns of a namespace reference. */
export function netnsName(ns: NetnsRef): string {
  return typeof ns === 'string' ? ns : ns.name;
}

/** Options of {@link run} and {@link exec}. */
export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** The whole environment of the command; the test process's own when absent. */
  env?: NodeJS.ProcessEnv;
  /** Working folder. */
  cwd?: string;
  /** Kill the command (SIGKILL) after this many milliseconds. Default 30 s. */
  timeoutMs?: number;
  /** Resolve instead of throwing when the command exits with a non-zero status. */
  allowFailure?: boolean;
}

/** What a finished command left. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status, or null when a signal ended it. */
  exitCode: number | null;
  signal: string | null;
}

/**
 * Runs a program with an argument array (never through a shell) and collects its output.
 * Throws {@link CommandError} on a non-zero status unless `allowFailure` is set.
 *
 * @example
 * ```ts
 * const { stdout } = await run(['ip', '-j', 'link']);
 * ```
 */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TypeError('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, '', `failed to start "${file}": ${error.message}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
        signal,
      };
      if (exitCode !== 0 && !options.allowFailure) {
        reject(new CommandError(argv, exitCode, result.stdout, result.stderr, signal));
      } else resolve(result);
    });
    // A command that does not read stdin may close it first: ignore EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs a program inside a network namespace (`ip netns exec <ns> argv...`), or in the test
 * process's own namespace when `ns` is null.
 *
 * @example
 * ```ts
 * await exec(netns.host, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
 * ```
 */
export function exec(ns: NetnsRef | null, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(ns === null ? argv : ['ip', 'netns', 'exec', netnsName(ns), ...argv], options);
}
