// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestkitError } from './errors.ts';
import { netnsName, run, type NetnsRef } from './exec.ts';

/** A CNI verb. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

/** The wire form of a CNI error, as a plugin prints it on stdout. */
export interface PluginErrorJson {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

/** What a runtime hands a plugin: the CNI variables and the configuration on stdin. */
export interface PluginRunOptions {
  command: CniCommand;
  /** CNI_CONTAINERID. Default `cnitest` for ADD, DEL and CHECK. */
  containerId?: string;
  /** CNI_NETNS: the container namespace's path (a {@link NetnsRef} object gives its path). */
  netns?: string | { readonly path: string };
  /** CNI_IFNAME. Default `eth0` for ADD, DEL and CHECK. */
  ifName?: string;
  /** CNI_ARGS: a `K=V;K2=V2` string or its pairs. */
  args?: string | Readonly<Record<string, string>>;
  /** CNI_PATH: folders where delegated plugins are found. */
  cniPath?: string | readonly string[];
  /** The configuration, serialised as JSON on stdin. */
  conf?: unknown;
  /** The exact bytes for stdin, instead of `conf`. */
  stdin?: string;
  /**
   * The test's host namespace: the executable runs inside it (`ip netns exec`), so what it makes on
   * "the host" is the test's. Absent: the test process's own namespace.
   */
  hostNetns?: NetnsRef;
  /** Variables added to the environment (e.g. CNI_INTEGRATION flags); the rest is only CNI_* and PATH. */
  extraEnv?: Readonly<Record<string, string>>;
  /** Kill the plugin after this many milliseconds. Default 30 s. */
  timeoutMs?: number;
}

/** What a plugin run left: its exit status, output, and the parsed result or error. */
export interface PluginRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The parsed stdout of a successful run (the result, version info or nothing). */
  result: unknown;
  /** The parsed CNI error of a failed run, or undefined. */
  error: PluginErrorJson | undefined;
}

/**
 * The environment a runtime gives a plugin: the CNI variables that apply to the verb, and PATH.
 * Nothing else of the test process leaks in (no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS).
 */
export function pluginEnv(options: PluginRunOptions): Record<string, string> {
  const perContainer = options.command === 'ADD' || options.command === 'DEL' || options.command === 'CHECK';
  const env: Record<string, string> = {
    CNI_COMMAND: options.command,
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  const containerId = options.containerId ?? (perContainer ? 'cnitest' : undefined);
  if (containerId !== undefined) env['CNI_CONTAINERID'] = containerId;
  if (options.netns !== undefined) env['CNI_NETNS'] = typeof options.netns === 'string' ? options.netns : options.netns.path;
  const ifName = options.ifName ?? (perContainer ? 'eth0' : undefined);
  if (ifName !== undefined) env['CNI_IFNAME'] = ifName;
  if (options.args !== undefined) {
    env['CNI_ARGS'] = typeof options.args === 'string' ? options.args : Object.entries(options.args).map(([key, value]) => `${key}=${value}`).join(';');
  }
  if (options.cniPath !== undefined) env['CNI_PATH'] = typeof options.cniPath === 'string' ? options.cniPath : options.cniPath.join(':');
  return { ...env, ...options.extraEnv };
}

/** The stdin of a run: `stdin` as given, or `conf` as JSON. */
export function pluginStdin(options: PluginRunOptions): string {
  if (options.stdin !== undefined) return options.stdin;
  return options.conf === undefined ? '' : JSON.stringify(options.conf);
}

/** Turns a finished run's output into a {@link PluginRunResult}. */
export function parsePluginOutput(exitCode: number | null, stdout: string, stderr: string): PluginRunResult {
  let parsed: unknown;
  if (stdout.trim() !== '') {
    try {
      parsed = JSON.parse(stdout);
    } catch {
      parsed = undefined;
    }
  }
  const isError = exitCode !== 0 && typeof parsed === 'object' && parsed !== null && 'code' in parsed && 'msg' in parsed;
  return {
    exitCode,
    stdout,
    stderr,
    result: exitCode === 0 ? parsed : undefined,
    error: isError ? (parsed as PluginErrorJson) : undefined,
  };
}

/**
 * Runs a plugin executable exactly as a runtime does: the CNI variables and PATH as its whole
 * environment, the configuration on stdin, inside the test's host namespace when `hostNetns` is
 * given. A failing plugin resolves too: look at `exitCode` and `error`.
 *
 * @example
 * ```ts
 * const run = await execPlugin('/usr/lib/cni/bridge', {
 *   command: 'ADD', netns: netns.container, hostNetns: netns.host, cniPath: '/usr/lib/cni',
 *   conf: { cniVersion: '1.0.0', name: 'test', type: 'bridge', ipam: { ... } },
 * });
 * expect(run.error).toBeUndefined();
 * ```
 */
export async function execPlugin(binaryPath: string, options: PluginRunOptions): Promise<PluginRunResult> {
  if (!existsSync(binaryPath)) throw new TestkitError(`failed to run plugin "${binaryPath}": no such file`);
  const argv = options.hostNetns === undefined ? [binaryPath] : ['ip', 'netns', 'exec', netnsName(options.hostNetns), binaryPath];
  const out = await run(argv, {
    env: pluginEnv(options),
    input: pluginStdin(options),
    allowFailure: true,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  return parsePluginOutput(out.exitCode, out.stdout, out.stderr);
}

/**
 * Finds a plugin executable by type in CNI_PATH folders, as a runtime does; throws when absent.
 *
 * @example
 * ```ts
 * findPlugin('bridge', ['apps/cni-bundle/dist/bin', '/usr/lib/cni']);
 * ```
 */
export function findPlugin(type: string, cniPath: string | readonly string[]): string {
  const dirs = typeof cniPath === 'string' ? cniPath.split(':') : cniPath;
  for (const dir of dirs) {
    const candidate = join(dir, type);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new TestkitError(`failed to find plugin "${type}" in path [${dirs.join(' ')}]`);
}

/** The io a skel-style `runPlugin(plugin, io)` receives in an in-process run; everything it writes is captured. */
export interface CapturedIo {
  env: Record<string, string>;
  stdin: string;
  stdout: { write(chunk: string | Uint8Array): boolean };
  stderr: { write(chunk: string | Uint8Array): boolean };
  /** Records the exit status; the run ends when `invoke` settles. */
  exit(code: number): void;
}

/**
 * Runs a plugin in this process through skel's `runPlugin` with injected io, so a test can cover
 * a plugin without building it. The test kit does not import @cni/skel (its tests import the test
 * kit): the caller passes the call, e.g. `(io) => runPlugin(bridge, io)`.
 *
 * An in-process run acts in the caller's network namespace: `hostNetns` is ignored here. Wrap the
 * call with @cni/netns's `withNetns(host, ...)` or use {@link execPlugin} to run inside the test's
 * host namespace.
 *
 * @example
 * ```ts
 * const out = await runInProcess((io) => runPlugin(tuning, io), { command: 'ADD', netns: netns.container, conf });
 * ```
 */
export async function runInProcess(invoke: (io: CapturedIo) => unknown, options: PluginRunOptions): Promise<PluginRunResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const text = (chunk: string | Uint8Array): string => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  let exitCode: number | undefined;
  const io: CapturedIo = {
    env: pluginEnv(options),
    stdin: pluginStdin(options),
    stdout: { write: (chunk) => (stdout.push(text(chunk)), true) },
    stderr: { write: (chunk) => (stderr.push(text(chunk)), true) },
    exit: (code) => {
      exitCode ??= code;
    },
  };
  try {
    // skel's runPlugin resolves to the exit status as well as calling io.exit.
    const returned = await invoke(io);
    if (typeof returned === 'number') exitCode ??= returned;
  } catch (error) {
    // skel reports errors itself; a throw that escapes it is a bug worth seeing as such.
    if (exitCode === undefined) throw error;
  }
  return parsePluginOutput(exitCode ?? 0, stdout.join(''), stderr.join(''));
}
