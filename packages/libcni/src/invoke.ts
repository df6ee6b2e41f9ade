// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, CURRENT_SPEC_VERSION, isCniErrorJson } from '@cni/spec';
import { LibcniError } from './errors.ts';

/** The CNI variables of one plugin run (upstream's `invoke.Args`). */
export interface InvokeArgs {
  command: string;
  containerId?: string | undefined;
  netns?: string | undefined;
  /** CNI_ARGS as pairs: `[["IP", "10.0.0.5"]]` becomes `IP=10.0.0.5`. */
  pluginArgs?: readonly (readonly [string, string])[] | undefined;
  ifName?: string | undefined;
  /** CNI_PATH, already joined with `:`. */
  path?: string | undefined;
}

/** What {@link PluginExec.execPlugin} receives besides the plugin and its input. */
export interface ExecOptions {
  /** Aborts the run: the plugin is killed (SIGKILL, as Go's CommandContext does). */
  signal?: AbortSignal | undefined;
}

/**
 * How libcni finds and runs a plugin (upstream's `invoke.Exec`): tests and runtimes may
 * provide their own (run plugins in another namespace, record calls, fake them).
 */
export interface PluginExec {
  /** Run the plugin at `pluginPath` with `stdin` and exactly the environment `env`; resolve to its stdout. */
  execPlugin(pluginPath: string, stdin: Uint8Array, env: Readonly<Record<string, string>>, options?: ExecOptions): Promise<Uint8Array>;
  /** The path of plugin `type` in `paths`. */
  findInPath(type: string, paths: readonly string[]): string;
}

/**
 * The path of plugin `type`: the first regular file `<dir>/<type>` in `paths`, in order
 * (upstream's `invoke.FindInPath`, same error texts).
 */
export function findInPath(type: string, paths: readonly string[]): string {
  if (type === '') throw new LibcniError('no plugin name provided');
  if (type.includes('/')) throw new LibcniError(`invalid plugin name: ${type}`);
  if (paths.length === 0) throw new LibcniError('no paths provided');
  for (const dir of paths) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not there: the next folder may have it.
    }
  }
  throw new LibcniError(`failed to find plugin "${type}" in path [${paths.join(' ')}]`);
}

/**
 * The environment of a plugin run: the runtime's own environment plus the CNI variables, which
 * win over the same names inherited (upstream's `Args.AsEnv`). Empty values are still set, as
 * upstream sets them.
 */
export function pluginEnv(args: InvokeArgs, base: Readonly<Record<string, string | undefined>> = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  env.CNI_COMMAND = args.command;
  env.CNI_CONTAINERID = args.containerId ?? '';
  env.CNI_NETNS = args.netns ?? '';
  env.CNI_ARGS = (args.pluginArgs ?? []).map(([key, value]) => `${key}=${value}`).join(';');
  env.CNI_IFNAME = args.ifName ?? '';
  env.CNI_PATH = args.path ?? '';
  return env;
}

/**
 * Turn a failed run's output into the error upstream's `RawExec.pluginErr` makes: the plugin's
 * JSON error from stdout, else its stderr (`netplugin failed: "<stderr>": exit status 1`).
 */
export function pluginFailure(status: string, stdout: Uint8Array, stderr: Uint8Array): CniError {
  if (stdout.length === 0) {
    if (stderr.length === 0) return new CniError(0, `netplugin failed with no error message: ${status}`);
    return new CniError(0, `netplugin failed: ${JSON.stringify(Buffer.from(stderr).toString('utf8'))}: ${status}`);
  }
  const text = Buffer.from(stdout).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    if (isCniErrorJson(value)) {
      return new CniError(value.code, value.msg ?? '', value.details ? { details: value.details } : {});
    }
    throw new Error('not an error object');
  } catch (error) {
    return new CniError(
      0,
      `netplugin failed but error parsing its diagnostic message ${JSON.stringify(text)}: ${(error as Error).message}`,
    );
  }
}

/** A writable sink for a plugin's stderr: `process.stderr`, a stream, or a test's collector. */
export interface TextSink {
  write(chunk: string | Uint8Array): unknown;
}

/** Options of {@link RawExec}. */
export interface RawExecOptions {
  /**
   * Where a plugin's stderr goes after a successful run (a failed run's stderr is in its error,
   * as upstream does). Default `process.stderr`; null drops it.
   */
  stderr?: TextSink | null;
  /**
   * A command that runs the plugin, e.g. `['ip', 'netns', 'exec', 'node1']` to run every plugin
   * inside a namespace the runtime treats as its host. The plugin path is appended.
   */
  wrapper?: readonly string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

interface RunOutcome {
  status: string | undefined;
  spawnError: NodeJS.ErrnoException | undefined;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/**
 * Runs plugins as processes, as upstream's `RawExec`: stdin written in full, stdout and stderr
 * collected, up to six attempts one second apart while the executable is being written
 * ("text file busy"), a killed process on abort.
 */
export class RawExec implements PluginExec {
  readonly #stderr: TextSink | null;
  readonly #wrapper: readonly string[];

  constructor(options: RawExecOptions = {}) {
    this.#stderr = options.stderr === undefined ? process.stderr : options.stderr;
    this.#wrapper = options.wrapper ?? [];
  }

  /** See {@link findInPath}. */
  findInPath(type: string, paths: readonly string[]): string {
    return findInPath(type, paths);
  }

  /** Run the plugin; resolves to stdout, rejects with the plugin's {@link CniError}. */
  async execPlugin(pluginPath: string, stdin: Uint8Array, env: Readonly<Record<string, string>>, options: ExecOptions = {}): Promise<Uint8Array> {
    const { signal } = options;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const outcome = await this.#runOnce(pluginPath, stdin, env, signal);
      if (outcome.spawnError?.code === 'ETXTBSY' && attempt < 5) {
        await sleep(1000, signal);
        continue;
      }
      if (signal?.aborted) {
        throw new LibcniError(`plugin "${pluginPath}" was stopped: ${abortReason(signal)}`, { cause: signal.reason });
      }
      if (outcome.spawnError) throw pluginFailure(outcome.spawnError.message, outcome.stdout, outcome.stderr);
      if (outcome.status !== undefined) throw pluginFailure(outcome.status, outcome.stdout, outcome.stderr);
      if (outcome.stderr.length > 0) this.#stderr?.write(outcome.stderr);
      return outcome.stdout;
    }
  }

  #runOnce(pluginPath: string, stdin: Uint8Array, env: Readonly<Record<string, string>>, signal: AbortSignal | undefined): Promise<RunOutcome> {
    const [file = pluginPath, ...args] = [...this.#wrapper, pluginPath];
    return new Promise((resolve) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let spawnError: NodeJS.ErrnoException | undefined;
      let child;
      try {
        child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (error) {
        // Some failures of exec (ETXTBSY among them) are thrown, not emitted.
        resolve({ spawnError: error as NodeJS.ErrnoException, status: undefined, stdout: new Uint8Array(), stderr: new Uint8Array() });
        return;
      }
      const onAbort = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A plugin may exit without reading stdin (VERSION does): EPIPE is not its failure.
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
      child.on('error', (error: NodeJS.ErrnoException) => {
        spawnError = error;
      });
      child.on('close', (code, killedBy) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({
          spawnError,
          status: spawnError ? undefined : killedBy ? `signal: ${signalText(killedBy)}` : code === 0 ? undefined : `exit status ${code}`,
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
        });
      });
    });
  }
}

function signalText(signal: NodeJS.Signals): string {
  return signal === 'SIGKILL' ? 'killed' : signal.toLowerCase().replace(/^sig/, '');
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return 'timed out';
  return reason instanceof Error ? reason.message : String(reason);
}

/** The io a plugin run in-process receives: the shape of @cni/skel's `runPlugin` io. */
export interface InProcessIo {
  env: Record<string, string>;
  stdin: string;
  stdout: { write(chunk: string | Uint8Array): boolean };
  stderr: { write(chunk: string | Uint8Array): boolean };
  exit(code: number): void;
}

/**
 * Plugins of our bundle run in this process instead of as executables: `plugins` maps a plugin
 * `type` to its value, `run` is @cni/skel's `runPlugin` (passed in, because libcni and skel sit
 * on the same layer and do not import each other). A type found here never touches CNI_PATH.
 *
 * The plugin runs in the caller's network namespace, as an executable started by the caller would.
 *
 * @example
 * ```ts
 * // runPlugin is @cni/skel's.
 * new CniConfig({ path, inProcess: { plugins: { bridge, 'host-local': hostLocal }, run: runPlugin } });
 * ```
 */
export interface InProcessPlugins<P = never> {
  readonly plugins: Readonly<Record<string, P>>;
  run(plugin: P, io: InProcessIo): unknown;
}

/**
 * Run a plugin value through `run` with captured io, with exactly what the executable path
 * gives: stdout on success, the same {@link pluginFailure} error otherwise.
 */
export async function execInProcess<P>(
  inProcess: InProcessPlugins<P>,
  plugin: P,
  stdin: Uint8Array,
  env: Readonly<Record<string, string>>,
  stderrSink: TextSink | null,
): Promise<Uint8Array> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const collect = (into: Buffer[]) => (chunk: string | Uint8Array) => (into.push(Buffer.from(chunk)), true);
  let exitCode: number | undefined;
  const io: InProcessIo = {
    env: { ...env },
    stdin: Buffer.from(stdin).toString('utf8'),
    stdout: { write: collect(stdout) },
    stderr: { write: collect(stderr) },
    exit: (code) => {
      exitCode ??= code;
    },
  };
  try {
    const returned = await inProcess.run(plugin, io);
    if (exitCode === undefined && typeof returned === 'number') exitCode = returned;
  } catch (error) {
    // skel turns every error into its JSON; one that escapes is a bug in the plugin runner.
    if (exitCode === undefined) throw new LibcniError(`in-process plugin failed: ${(error as Error).message}`, { cause: error });
  }
  const out = Buffer.concat(stdout);
  const err = Buffer.concat(stderr);
  if ((exitCode ?? 0) !== 0) throw pluginFailure(`exit status ${exitCode}`, out, err);
  if (err.length > 0) stderrSink?.write(err);
  return out;
}

/** What a plugin answers to VERSION (upstream's `version.PluginInfo`). */
export interface PluginInfo {
  cniVersion: string;
  supportedVersions: string[];
}

/**
 * Decode a VERSION answer (upstream's `PluginDecoder`): `cniVersion` required; a 0.2.0 plugin
 * that lists nothing supports 0.1.0 and 0.2.0.
 */
export function decodeVersionInfo(stdout: Uint8Array): PluginInfo {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(stdout).toString('utf8'));
  } catch (error) {
    throw new LibcniError(`decoding version info: ${(error as Error).message}`, { code: 6, cause: error });
  }
  const info = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof info.cniVersion !== 'string' || info.cniVersion === '') {
    throw new LibcniError('decoding version info: missing field cniVersion', { code: 6 });
  }
  const supported = Array.isArray(info.supportedVersions) ? info.supportedVersions.filter((v): v is string => typeof v === 'string') : [];
  if (supported.length === 0) {
    if (info.cniVersion === '0.2.0') return { cniVersion: CURRENT_SPEC_VERSION, supportedVersions: ['0.1.0', '0.2.0'] };
    throw new LibcniError('decoding version info: missing field supportedVersions', { code: 6 });
  }
  return { cniVersion: info.cniVersion, supportedVersions: supported };
}
