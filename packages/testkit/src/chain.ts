// SPDX-License-Identifier: Apache-2.0
import { TestkitError } from './errors.ts';
import type { NetnsRef } from './exec.ts';
import {
  execPlugin,
  findPlugin,
  runInProcess,
  type CapturedIo,
  type CniCommand,
  type PluginRunOptions,
  type PluginRunResult,
} from './plugin.ts';

/** Runs one plugin of a chain by its `type`: as an executable, in process, or however a test likes. */
export type PluginRunner = (type: string, options: PluginRunOptions) => Promise<PluginRunResult>;

/**
 * A runner that finds each plugin as an executable in `cniPath` (apps/cni-bundle/dist/bin, a
 * plugin's own dist, /usr/lib/cni for the reference) and runs it with {@link execPlugin}.
 */
export function execRunner(cniPath: string | readonly string[]): PluginRunner {
  return (type, options) => execPlugin(findPlugin(type, cniPath), { cniPath, ...options });
}

/**
 * A runner that calls plugins in this process, each given as the call of skel's `runPlugin` on it:
 * `inProcessRunner({ bridge: (io) => runPlugin(bridge, io) })`. Runs act in the caller's namespace
 * (see {@link runInProcess}).
 */
export function inProcessRunner(plugins: Readonly<Record<string, (io: CapturedIo) => unknown>>): PluginRunner {
  return (type, options) => {
    const invoke = plugins[type];
    if (!invoke) return Promise.reject(new TestkitError(`failed to find plugin "${type}" among the in-process plugins [${Object.keys(plugins).join(' ')}]`));
    return runInProcess(invoke, options);
  };
}

const failedMarker = Symbol.for('cni.testkit.plugin-failed-error');

/** A plugin of a chain exited with an error; `code`, `msg` and `details` are the CNI error's. */
export class PluginFailedError extends TestkitError {
  /** @internal Marks PluginFailedError across copies of this package. */
  readonly [failedMarker] = true as const;
  override readonly name: string = 'PluginFailedError';
  /** The plugin's type. */
  readonly pluginType: string;
  readonly command: CniCommand;
  /** The CNI error code, or undefined when the plugin printed none. */
  readonly code: number | undefined;
  readonly msg: string | undefined;
  readonly details: string | undefined;
  /** The whole run: exit status, stdout, stderr. */
  readonly run: PluginRunResult;

  constructor(pluginType: string, command: CniCommand, run: PluginRunResult) {
    const what = run.error ? `${run.error.msg} (code ${run.error.code})` : `exit status ${String(run.exitCode)}: ${run.stderr.trim() || run.stdout.trim()}`;
    super(`plugin "${pluginType}" failed on ${command}: ${what}`);
    this.pluginType = pluginType;
    this.command = command;
    this.code = run.error?.code;
    this.msg = run.error?.msg;
    this.details = run.error?.details;
    this.run = run;
  }

  /** True for a PluginFailedError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is PluginFailedError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[failedMarker] === true;
  }
}

/** A configuration list as a runtime loads it. */
export interface ChainConfList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: readonly ({ type: string; capabilities?: Readonly<Record<string, boolean>> } & Record<string, unknown>)[];
}

/** Options of {@link createChain}: the attachment and how its plugins run. */
export interface ChainOptions {
  runner: PluginRunner;
  containerId?: string;
  netns?: string | { readonly path: string };
  ifName?: string;
  args?: string | Readonly<Record<string, string>>;
  cniPath?: string | readonly string[];
  hostNetns?: NetnsRef;
  /** Runtime data, injected as `runtimeConfig` into the plugins whose `capabilities` ask for it. */
  capabilityArgs?: Readonly<Record<string, unknown>>;
  timeoutMs?: number;
}

/** One attachment's configuration list driven as libcni drives it. */
export interface Chain {
  /** Runs ADD plugin by plugin, each with the previous result; returns and caches the last result. */
  add(): Promise<unknown>;
  /** Runs CHECK in order with the cached result as prevResult (spec 0.4.0 and later). */
  check(): Promise<void>;
  /** Runs DEL in reverse order with the cached result as prevResult (0.4.0 and later), then forgets it. */
  del(): Promise<void>;
  /** Runs GC on each plugin with the attachments still valid (spec 1.1.0). */
  gc(validAttachments?: readonly { containerID: string; ifname: string }[]): Promise<void>;
  /** Runs STATUS on each plugin (spec 1.1.0). */
  status(): Promise<void>;
  /** The result of the last ADD, as a runtime caches it. */
  readonly cachedResult: unknown;
  /** Every plugin run so far, in order, for assertions on stderr or exit codes. */
  readonly runs: readonly { type: string; command: CniCommand; run: PluginRunResult }[];
}

function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

/**
 * Drives a configuration list as a runtime does (libcni 1.3): `cniVersion` and `name` injected into
 * each plugin, `runtimeConfig` filtered by its `capabilities`, `prevResult` threaded through ADD,
 * CHECK in order and DEL in reverse with the cached result. A failing plugin throws
 * {@link PluginFailedError} and stops the verb, as libcni does.
 *
 * @example
 * ```ts
 * const chain = createChain(conflist, { runner: execRunner('/usr/lib/cni'), netns: netns.container, hostNetns: netns.host });
 * const result = await chain.add();
 * await chain.check();
 * await chain.del();
 * ```
 */
export function createChain(list: ChainConfList, options: ChainOptions): Chain {
  let cachedResult: unknown;
  const runs: { type: string; command: CniCommand; run: PluginRunResult }[] = [];

  const pluginConf = (plugin: ChainConfList['plugins'][number], extra: Record<string, unknown>): Record<string, unknown> => {
    const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [key, wanted] of Object.entries(plugin.capabilities ?? {})) {
      if (wanted && options.capabilityArgs?.[key] !== undefined) runtimeConfig[key] = options.capabilityArgs[key];
    }
    if (Object.keys(runtimeConfig).length > 0) conf['runtimeConfig'] = runtimeConfig;
    return { ...conf, ...extra };
  };

  const invoke = async (plugin: ChainConfList['plugins'][number], command: CniCommand, conf: Record<string, unknown>): Promise<PluginRunResult> => {
    const runOptions: PluginRunOptions = { command, conf };
    const perContainer = command === 'ADD' || command === 'DEL' || command === 'CHECK';
    if (perContainer) {
      if (options.containerId !== undefined) runOptions.containerId = options.containerId;
      if (options.netns !== undefined) runOptions.netns = options.netns;
      if (options.ifName !== undefined) runOptions.ifName = options.ifName;
      if (options.args !== undefined) runOptions.args = options.args;
    }
    if (options.cniPath !== undefined) runOptions.cniPath = options.cniPath;
    if (options.hostNetns !== undefined) runOptions.hostNetns = options.hostNetns;
    if (options.timeoutMs !== undefined) runOptions.timeoutMs = options.timeoutMs;
    const run = await options.runner(plugin.type, runOptions);
    runs.push({ type: plugin.type, command, run });
    if (run.exitCode !== 0) throw new PluginFailedError(plugin.type, command, run);
    return run;
  };

  const withCache = (): Record<string, unknown> =>
    cachedResult !== undefined && versionAtLeast(list.cniVersion, '0.4.0') ? { prevResult: cachedResult } : {};

  return {
    get cachedResult() {
      return cachedResult;
    },
    runs,
    async add() {
      let prevResult: unknown;
      for (const plugin of list.plugins) {
        const run = await invoke(plugin, 'ADD', pluginConf(plugin, prevResult === undefined ? {} : { prevResult }));
        prevResult = run.result;
      }
      cachedResult = prevResult;
      return prevResult;
    },
    async check() {
      if (!versionAtLeast(list.cniVersion, '0.4.0')) throw new TestkitError(`configuration version "${list.cniVersion}" does not support the CHECK command`);
      if (list.disableCheck) return;
      if (cachedResult === undefined) throw new TestkitError(`failed to check network "${list.name}": no cached result`);
      for (const plugin of list.plugins) await invoke(plugin, 'CHECK', pluginConf(plugin, withCache()));
    },
    async del() {
      for (const plugin of [...list.plugins].reverse()) await invoke(plugin, 'DEL', pluginConf(plugin, withCache()));
      cachedResult = undefined;
    },
    async gc(validAttachments = []) {
      if (list.disableGC) return;
      for (const plugin of list.plugins) {
        await invoke(plugin, 'GC', pluginConf(plugin, { 'cni.dev/valid-attachments': validAttachments }));
      }
    },
    async status() {
      for (const plugin of list.plugins) await invoke(plugin, 'STATUS', pluginConf(plugin, {}));
    },
  };
}

