// SPDX-License-Identifier: Apache-2.0
import { readSync, statSync, writeSync } from 'node:fs';
import {
  assertVerbAllowed,
  assertVersionSupported,
  CNI_ERROR_CODES,
  CniError,
  formatError,
  formatResult,
  isValidName,
  MAX_STDIN_BYTES,
  parseNetConf,
  parsePrevResult,
  parseResult,
  toCniError,
  versionInfo,
  type NetConf,
  type Result,
} from '@cni/spec';
import { loadArgs, parseCniArgs, type ArgsSchema } from './args.ts';
import { execDelegate, findInPath, type DelegateRunner, type TextSink } from './delegate.ts';
import { isNetnsOverride, readCniEnvironment, splitCniPath, type CniEnvironment, type ConfigCommand, type PluginEnv } from './env.ts';
import { FileLog, LOG_FILE_ENV, LOG_FILE_KEY } from './log.ts';
import type { CniPlugin, DelegateConfig, DelegateOptions, PluginRequest } from './plugin.ts';

/** What a plugin reads on stdin: a stream of chunks (`process.stdin`), or all of it at once. */
export type PluginStdin = AsyncIterable<Uint8Array | string> | Uint8Array | string;

/**
 * Everything a plugin touches outside itself, injected so that tests and in-process runtimes
 * patch no globals. {@link processIo} is the real process's.
 */
export interface PluginIo {
  /** The environment: the CNI variables, CNI_LOG_FILE, and what delegates inherit. */
  env: PluginEnv;
  /** The configuration. Not read for VERSION. */
  stdin: PluginStdin;
  /** Results, VERSION answers and errors: the CNI protocol's channel. */
  stdout: TextSink;
  /** The about text, and delegates' diagnostics. */
  stderr: TextSink;
  /** Called once at the end with the exit status (0 or 1). */
  exit?: (code: number) => void;
  /** Runs delegates; {@link execDelegate} (start the executable) by default. */
  delegateRunner?: DelegateRunner;
}

/** Options of {@link runPlugin}. */
export interface RunOptions {
  /** The version in the about text (`CNI sample plugin v1.2.3`); `version unknown` without one. */
  version?: string;
}

/**
 * The real process's I/O: `process.env`, stdin, stdout and stderr, and an exit that ends the
 * process once the output is out, even if a plugin left a handle open (a runtime waits for the
 * plugin to exit).
 */
export function processIo(): PluginIo {
  let streamsUsed = false;
  // Synchronous writes to fds 1 and 2: a runtime reads them through a pipe or a file, and
  // process.stdout's stream costs more to set up than the whole result takes to write. A
  // non-blocking pipe that is full (EAGAIN) hands the rest to the stream.
  const sink = (fd: 1 | 2, stream: () => NodeJS.WriteStream): TextSink => ({
    write(text: string) {
      let bytes = Buffer.from(text, 'utf8');
      if (!streamsUsed) {
        try {
          while (bytes.length > 0) bytes = bytes.subarray(writeSync(fd, bytes));
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          streamsUsed = true;
        }
      }
      stream().write(bytes);
    },
  });
  return {
    env: process.env,
    // Read only when needed: VERSION and the about text never touch stdin.
    stdin: { [Symbol.asyncIterator]: () => readProcessStdin() },
    stdout: sink(1, () => process.stdout),
    stderr: sink(2, () => process.stderr),
    exit: (code) => {
      process.exitCode = code;
      if (!streamsUsed) process.exit(code);
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
  };
}

/**
 * The process's stdin, read with blocking reads of fd 0: a runtime passes a file or a blocking
 * pipe, and this costs a fraction of what setting up `process.stdin` does (about 9 ms of CPU per
 * run, measured). A non-blocking descriptor (EAGAIN) falls back to the stream.
 */
async function* readProcessStdin(): AsyncGenerator<Uint8Array> {
  const size = 64 * 1024;
  for (;;) {
    const buffer = Buffer.allocUnsafe(size);
    let count: number;
    try {
      count = readSync(0, buffer, 0, size, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EOF') return;
      if (code !== 'EAGAIN') throw error;
      for await (const chunk of process.stdin) yield chunk as Uint8Array;
      return;
    }
    if (count === 0) return;
    yield buffer.subarray(0, count);
  }
}

/** Read stdin whole, refusing more than {@link MAX_STDIN_BYTES} (code 5, as a failed read). */
async function readStdin(stdin: PluginStdin): Promise<Uint8Array> {
  const tooLarge = () =>
    new CniError(
      CNI_ERROR_CODES.IO_FAILURE,
      `error reading from stdin: input is larger than the limit of ${MAX_STDIN_BYTES} bytes (10 MiB)`,
    );
  if (typeof stdin === 'string' || stdin instanceof Uint8Array) {
    const bytes = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
    if (bytes.byteLength > MAX_STDIN_BYTES) throw tooLarge();
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += bytes.byteLength;
      // Leaving the loop closes the stream: a runaway writer gets EPIPE instead of our memory.
      if (size > MAX_STDIN_BYTES) throw tooLarge();
      chunks.push(bytes);
    }
  } catch (error) {
    if (CniError.isInstance(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CniError(CNI_ERROR_CODES.IO_FAILURE, `error reading from stdin: ${reason}`, { cause: error });
  }
  return Buffer.concat(chunks, size);
}

/** Go's name for the JSON kind of `value`, as its decoder prints it. */
function goJsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/**
 * Parse the configuration with skel's rules. Upstream's skel decodes only `name` (into a Go
 * string) and then `cniVersion`, so a few inputs get another code there than from our stricter
 * parser: `null` is a configuration without a name (7), and a `name` or `cniVersion` that is not
 * a string fails to decode (6). Keep upstream's codes and texts for those.
 */
function parseConf(stdin: Uint8Array): NetConf {
  try {
    return parseNetConf(stdin);
  } catch (error) {
    if (!CniError.isInstance(error)) throw error;
    throw upstreamDecodeError(stdin, error) ?? error;
  }
}

function upstreamDecodeError(stdin: Uint8Array, cause: CniError): CniError | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(stdin).toString('utf8'));
  } catch {
    return undefined;
  }
  if (raw === null) return new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing network name', { cause });
  if (typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const { name, cniVersion } = raw as Record<string, unknown>;
  const notString = (value: unknown) => value !== undefined && value !== null && typeof value !== 'string';
  if (notString(name)) {
    return new CniError(
      CNI_ERROR_CODES.DECODING_FAILURE,
      `error unmarshall network config: json: cannot unmarshal ${goJsonKind(name)} into Go struct field .name of type string`,
      { cause },
    );
  }
  // A missing or invalid name is reported by our parser with upstream's code and text.
  if (typeof name !== 'string' || !isValidName(name)) return undefined;
  if (notString(cniVersion)) {
    return new CniError(
      CNI_ERROR_CODES.DECODING_FAILURE,
      `decoding version from network config: json: cannot unmarshal ${goJsonKind(cniVersion)} into Go struct field .cniVersion of type string`,
      { cause },
    );
  }
  return undefined;
}

/**
 * Upstream's `ns.CheckNetNS`: true when `netns` is the namespace this process runs in. A path
 * that cannot be read is not ours (the plugin reports it, and DEL must tolerate it).
 */
function isOwnNetns(netns: string): boolean {
  if (netns === '') return false;
  try {
    const target = statSync(netns, { bigint: true });
    const own = statSync('/proc/self/ns/net', { bigint: true });
    return target.dev === own.dev && target.ino === own.ino;
  } catch {
    return false;
  }
}

function assertNotOwnNetns(environment: CniEnvironment): void {
  if (isNetnsOverride(environment.netnsOverride)) return;
  if (isOwnNetns(environment.netns)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETNS, "plugin's netns and netns from CNI_NETNS should not be the same");
  }
}

function toBytes(config: DelegateConfig): Uint8Array {
  if (config instanceof Uint8Array) return config;
  return Buffer.from(typeof config === 'string' ? config : JSON.stringify(config), 'utf8');
}

/** The version a delegate's result without `cniVersion` has: its stdin's (`fixupResultVersion`). */
function configVersionOf(config: Uint8Array): string {
  try {
    const version = (JSON.parse(Buffer.from(config).toString('utf8')) as Record<string, unknown>).cniVersion;
    return typeof version === 'string' && version !== '' ? version : '0.1.0';
  } catch {
    return '0.1.0';
  }
}

function buildRequest(
  command: ConfigCommand,
  environment: CniEnvironment,
  stdinData: Uint8Array,
  conf: NetConf,
  io: PluginIo,
  log: FileLog,
): PluginRequest {
  const path = splitCniPath(environment.path);
  const runner = io.delegateRunner ?? execDelegate;
  let prevResult: { value: Result | undefined } | undefined;
  let args: Readonly<Record<string, string>> | undefined;

  async function delegate(type: string, config?: DelegateConfig, options?: DelegateOptions): Promise<Result | undefined> {
    const delegateCommand = options?.command ?? command;
    const stdin = config === undefined ? stdinData : toBytes(config);
    const pluginPath = findInPath(type, path);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(io.env)) if (value !== undefined) env[key] = value;
    env.CNI_COMMAND = delegateCommand;
    log.debug(`delegate ${delegateCommand} to ${pluginPath}`);
    const stdout = await runner({ type, pluginPath, command: delegateCommand, env, stdin, stderr: io.stderr });
    if (delegateCommand !== 'ADD') return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(stdout).toString('utf8'));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `failed to unmarshal raw result of "${type}": ${reason}`, { cause: error });
    }
    const own = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).cniVersion : undefined;
    return parseResult(raw, typeof own === 'string' && own !== '' ? own : configVersionOf(stdin));
  }

  return {
    command,
    containerId: environment.containerId,
    netns: environment.netns,
    ifName: environment.ifName,
    get args() {
      args ??= parseCniArgs(environment.args);
      return args;
    },
    argsString: environment.args,
    loadArgs: <S extends ArgsSchema>(schema: S) => loadArgs(environment.args, schema),
    path,
    netnsOverride: isNetnsOverride(environment.netnsOverride),
    stdinData,
    conf,
    get prevResult() {
      prevResult ??= { value: parsePrevResult(conf).prevResult };
      return prevResult.value;
    },
    log,
    delegate: delegate as PluginRequest['delegate'],
  };
}

async function dispatch(plugin: CniPlugin, io: PluginIo, options: RunOptions, log: FileLog): Promise<number> {
  let environment: CniEnvironment;
  try {
    environment = readCniEnvironment(io.env);
  } catch (error) {
    if ((io.env.CNI_COMMAND ?? '') === '') {
      const about = plugin.about ?? `CNI ${plugin.name} plugin ${options.version ? `v${options.version}` : 'version unknown'}`;
      io.stderr.write(`${about}\nCNI protocol versions supported: ${plugin.versions.join(', ')}\n`);
      return 0;
    }
    throw error;
  }
  const { command } = environment;
  log.setPrefix(`${plugin.name}[${process.pid}] ${command} ${environment.containerId}`.trimEnd());

  if (command === 'VERSION') {
    // Upstream ignores stdin for VERSION, and prints compact JSON with a newline.
    io.stdout.write(`${JSON.stringify(versionInfo(plugin.versions))}\n`);
    return 0;
  }

  const stdinData = await readStdin(io.stdin);
  const conf = parseConf(stdinData);
  log.fallBackTo(conf[LOG_FILE_KEY]);
  log.debug('request', { env: environment, conf });

  switch (command) {
    case 'ADD': {
      assertVersionSupported(conf.cniVersion, plugin.versions);
      // Upstream checks after ADD has run; checking first keeps a plugin from configuring its
      // own namespace. Same code and text.
      assertNotOwnNetns(environment);
      const result = await plugin.add(buildRequest(command, environment, stdinData, conf, io, log) as PluginRequest<'ADD'>);
      if (result === undefined || result === null) {
        throw new CniError(CNI_ERROR_CODES.INTERNAL, `plugin "${plugin.name}" returned no result for ADD`);
      }
      const text = formatResult(result, conf.cniVersion);
      log.debug('result', { result: text });
      io.stdout.write(text);
      return 0;
    }
    case 'DEL':
      assertVersionSupported(conf.cniVersion, plugin.versions);
      assertNotOwnNetns(environment);
      await plugin.del(buildRequest(command, environment, stdinData, conf, io, log) as PluginRequest<'DEL'>);
      return 0;
    case 'CHECK':
    case 'GC':
    case 'STATUS': {
      assertVerbAllowed(command, conf.cniVersion, plugin.versions);
      const request = buildRequest(command, environment, stdinData, conf, io, log);
      if (command === 'CHECK') await plugin.check?.(request as PluginRequest<'CHECK'>);
      else if (command === 'GC') await plugin.gc?.(request as PluginRequest<'GC'>);
      else await plugin.status?.(request as PluginRequest<'STATUS'>);
      return 0;
    }
    default:
      throw new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, `unknown CNI_COMMAND: ${command}`);
  }
}

/**
 * Run `plugin` for one request, as upstream's `skel.PluginMainFuncs`: read and validate the CNI
 * variables and the configuration, check the spec version, call the verb, print its result in
 * the configuration's version. Resolves to the exit status, after calling `io.exit` with it.
 *
 * Never throws: whatever goes wrong is printed on stdout as the spec's error JSON (a CniError as
 * it is, anything else as code 999) with status 1. Without CNI_COMMAND it prints the about text
 * on stderr and exits 0.
 *
 * @example
 * ```ts
 * // an executable's entry (cni-bundle-build generates one per plugin)
 * void runPlugin(sample);
 * ```
 */
export async function runPlugin(plugin: CniPlugin, io: PluginIo = processIo(), options: RunOptions = {}): Promise<number> {
  let code: number;
  let log: FileLog | undefined;
  try {
    log = new FileLog(io.env[LOG_FILE_ENV], plugin.name);
    code = await dispatch(plugin, io, options, log);
  } catch (error) {
    code = 1;
    const cniError = toCniError(error);
    log?.debug('error', { code: cniError.code, msg: cniError.message, details: cniError.details, stack: (error as Error)?.stack });
    try {
      io.stdout.write(formatError(cniError));
    } catch {
      // Nothing left to tell the runtime with: the exit status has to do.
    }
  }
  try {
    io.exit?.(code);
  } catch {
    // An exit hook that throws must not turn into an exception out of runPlugin.
  }
  return code;
}
