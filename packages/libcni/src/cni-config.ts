// SPDX-License-Identifier: Apache-2.0
import {
  CNI_ERROR_CODES,
  CniError,
  compareVersions,
  effectiveVersion,
  isValidName,
  parseResult,
  type GcAttachment,
  type Result,
} from '@cni/spec';
import {
  cacheRecord,
  DEFAULT_CACHE_DIR,
  deleteCache,
  listCachedAttachments,
  readCachedConfig,
  readCachedResult,
  writeCache,
  type NetworkAttachment,
  type RuntimeConf,
} from './cache.ts';
import type { NetworkConfigList, PluginConfig } from './conf.ts';
import { errorText, LibcniError, MultiError, PluginError, type PluginAction } from './errors.ts';
import {
  decodeVersionInfo,
  execInProcess,
  pluginEnv,
  RawExec,
  type InProcessPlugins,
  type InvokeArgs,
  type PluginExec,
  type PluginInfo,
  type TextSink,
} from './invoke.ts';

/** Options of {@link CniConfig}. */
export interface CniConfigOptions<P = never> {
  /** CNI_PATH: the folders plugins are looked up in, in order. */
  path: readonly string[];
  /** The cache folder; results go to `<cacheDir>/results`. Default `/var/lib/cni`. */
  cacheDir?: string | undefined;
  /** How plugins are found and run. Default a {@link RawExec} writing plugin stderr to `stderr`. */
  exec?: PluginExec | undefined;
  /** Plugin values that run in this process instead of as executables; see {@link InProcessPlugins}. */
  inProcess?: InProcessPlugins<P> | undefined;
  /** The environment plugins inherit, before the CNI variables. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Where plugin stderr goes (default exec and in-process runs). Default `process.stderr`; null drops it. */
  stderr?: TextSink | null | undefined;
  /** A time limit for each plugin run, in milliseconds. Default none. */
  timeout?: number | undefined;
}

/** Per-call options of the network operations. */
export interface CallOptions {
  /** Stops the running plugin (it is killed) and the operation. */
  signal?: AbortSignal | undefined;
}

/** Arguments of {@link CniConfig.gcNetworkList} (upstream's `GCArgs`). */
export interface GcArgs {
  /** The attachments still in use; every other cached attachment of the network is deleted. */
  validAttachments: readonly GcAttachment[];
}

/** The capabilities with a well-known meaning (CONVENTIONS.md, and containerd's pod annotations). */
export const WELL_KNOWN_CAPABILITIES = [
  'portMappings',
  'ipRanges',
  'bandwidth',
  'dns',
  'ips',
  'mac',
  'infinibandGUID',
  'deviceID',
  'aliases',
  'cgroupPath',
  'io.kubernetes.cri.pod-annotations',
] as const;

const encoder = new TextEncoder();

function versionAtLeast(version: string, min: string): boolean {
  const v = effectiveVersion(version);
  try {
    return compareVersions(v, min) >= 0;
  } catch {
    throw new LibcniError(`invalid version "${version}"`, { code: CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION });
  }
}

/** Upstream's `utils.ValidateContainerID` / `ValidateNetworkName` / `ValidateInterfaceName`. */
function validateAttachment(name: string, rt: RuntimeConf): void {
  if (rt.containerId === '') throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, 'missing containerID');
  if (!isValidName(rt.containerId)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, 'invalid characters in containerID', { details: rt.containerId });
  }
  if (name === '') throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing network name:');
  if (!isValidName(name)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'invalid characters found in network name', { details: name });
  }
  const ifName = rt.ifName;
  const invalid = (message: string, details?: string) =>
    new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, message, details ? { details } : {});
  if (ifName.length === 0) throw invalid('interface name is empty');
  if (Buffer.byteLength(ifName) > 15) throw invalid('interface name is too long', 'interface name should be less than 16 characters');
  if (ifName === '.' || ifName === '..') throw invalid('interface name is . or ..');
  if (/[/:\s]/u.test(ifName)) throw invalid('interface name contains / or : or whitespace characters');
}

/** The network name and version of a single plugin configuration. */
function singleIdentity(plugin: PluginConfig): { name: string; cniVersion: string } {
  return { name: plugin.network.name ?? '', cniVersion: plugin.network.cniVersion ?? '' };
}

/**
 * The capabilities a list's plugins enable that have no well-known meaning, as
 * `plugins[i].capabilities.<name>`: not an error (third parties define their own), but worth a
 * warning, as a typo never reaches the plugin.
 */
export function unknownCapabilities(list: NetworkConfigList): string[] {
  const known = new Set<string>(WELL_KNOWN_CAPABILITIES);
  return list.plugins.flatMap((plugin, i) =>
    Object.entries(plugin.network.capabilities ?? {})
      .filter(([name, enabled]) => enabled === true && !known.has(name))
      .map(([name]) => `plugins[${i}].capabilities.${name}`),
  );
}

/**
 * The plugin object a plugin receives: its own keys with `name`, `cniVersion`, `prevResult`
 * and the `runtimeConfig` its declared capabilities select from `capabilityArgs` (upstream's
 * `buildOneConfig` and `injectRuntimeConfig`).
 */
export function buildOneConfig(
  name: string,
  cniVersion: string,
  plugin: PluginConfig,
  prevResult: Result | undefined,
  rt: Pick<RuntimeConf, 'capabilityArgs'> | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...JSON.parse(Buffer.from(plugin.bytes).toString('utf8')), name, cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  if (rt) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [capability, enabled] of Object.entries(plugin.network.capabilities ?? {})) {
      if (enabled !== true) continue;
      const value = rt.capabilityArgs?.[capability];
      if (value !== undefined) runtimeConfig[capability] = value;
    }
    if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  }
  return conf;
}

/**
 * Upstream's `fixupResultVersion`: a result without `cniVersion` is taken to be in the config's
 * version (cni#895), then parsed in its own version.
 */
function parsePluginResult(stdout: Uint8Array, confVersion: string): Result {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(stdout).toString('utf8'));
  } catch (error) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `failed to unmarshal raw result: ${(error as Error).message}`);
  }
  const record = (raw ?? {}) as Record<string, unknown>;
  const version = typeof record.cniVersion === 'string' && record.cniVersion !== '' ? record.cniVersion : confVersion;
  return parseResult({ ...record, cniVersion: version });
}

/**
 * The runtime side of CNI (upstream's `libcni.CNIConfig`): runs the plugins of a network
 * configuration list for an attachment and keeps the result cache that DEL, CHECK and GC read.
 *
 * @example
 * ```ts
 * const cni = new CniConfig({ path: ['/opt/cni/bin'], cacheDir: '/var/lib/cni' });
 * const list = loadConfList('/etc/cni/net.d', 'pods');
 * const rt = { containerId: 'c1', netns: '/var/run/netns/c1', ifName: 'eth0' };
 * const result = await cni.addNetworkList(list, rt);
 * await cni.delNetworkList(list, rt);
 * ```
 */
export class CniConfig<P = never> {
  /** CNI_PATH. */
  readonly path: readonly string[];
  /** The cache folder. */
  readonly cacheDir: string;
  readonly #exec: PluginExec;
  readonly #inProcess: InProcessPlugins<P> | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #stderr: TextSink | null;
  readonly #timeout: number | undefined;

  constructor(options: CniConfigOptions<P>) {
    this.path = [...options.path];
    this.cacheDir = options.cacheDir || DEFAULT_CACHE_DIR;
    this.#stderr = options.stderr === undefined ? process.stderr : options.stderr;
    this.#exec = options.exec ?? new RawExec({ stderr: this.#stderr });
    this.#inProcess = options.inProcess;
    this.#env = options.env ?? process.env;
    this.#timeout = options.timeout;
  }

  /** The signal of one plugin run: the caller's, bounded by the configured time limit. */
  #signal(options: CallOptions): AbortSignal | undefined {
    const signals = [options.signal, this.#timeout === undefined ? undefined : AbortSignal.timeout(this.#timeout)].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
  }

  /**
   * Find plugin `type` (in-process first, then CNI_PATH) and run it with `stdin` and the CNI
   * variables `args`; resolves to its stdout.
   */
  async #run(type: string, stdin: Uint8Array, args: InvokeArgs, options: CallOptions): Promise<Uint8Array> {
    const env = pluginEnv(args, this.#env);
    const plugins = this.#inProcess?.plugins;
    if (this.#inProcess && plugins && Object.hasOwn(plugins, type)) {
      return execInProcess(this.#inProcess, plugins[type] as P, stdin, env, this.#stderr);
    }
    const pluginPath = this.#exec.findInPath(type, this.path);
    return this.#exec.execPlugin(pluginPath, stdin, env, { signal: this.#signal(options) });
  }

  #args(command: string, rt: Partial<RuntimeConf>): InvokeArgs {
    return {
      command,
      containerId: rt.containerId,
      netns: rt.netns,
      pluginArgs: rt.args,
      ifName: rt.ifName,
      path: this.path.join(':'),
    };
  }

  /** Fail early, as upstream's FindInPath does, for a plugin that exists neither in-process nor on disk. */
  #assertFound(type: string): void {
    const plugins = this.#inProcess?.plugins;
    if (plugins && Object.hasOwn(plugins, type)) return;
    this.#exec.findInPath(type, this.path);
  }

  async #addNetwork(name: string, cniVersion: string, plugin: PluginConfig, prevResult: Result | undefined, rt: RuntimeConf, options: CallOptions): Promise<Result> {
    this.#assertFound(plugin.network.type);
    validateAttachment(name, rt);
    const conf = buildOneConfig(name, cniVersion, plugin, prevResult, rt);
    const stdout = await this.#run(plugin.network.type, encoder.encode(JSON.stringify(conf)), this.#args('ADD', rt), options);
    return parsePluginResult(stdout, cniVersion);
  }

  async #runWithoutResult(command: string, name: string, cniVersion: string, plugin: PluginConfig, prevResult: Result | undefined, rt: RuntimeConf, options: CallOptions): Promise<void> {
    this.#assertFound(plugin.network.type);
    const conf = buildOneConfig(name, cniVersion, plugin, prevResult, rt);
    await this.#run(plugin.network.type, encoder.encode(JSON.stringify(conf)), this.#args(command, rt), options);
  }

  #wrap(plugin: PluginConfig, action: PluginAction, error: unknown): PluginError {
    return new PluginError(plugin.network.type, plugin.network.name, action, error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * ADD: run the plugins in order, each getting the previous one's result as `prevResult`;
   * stop at the first error (no automatic DEL, as upstream); cache the final result on success.
   */
  async addNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<Result> {
    let result: Result | undefined;
    for (const plugin of list.plugins) {
      try {
        result = await this.#addNetwork(list.name, list.cniVersion, plugin, result, rt, options);
      } catch (error) {
        throw this.#wrap(plugin, 'add', error);
      }
    }
    if (result === undefined) throw new LibcniError(`network "${list.name}" has no plugins`);
    try {
      writeCache(this.cacheDir, cacheRecord(result, list.bytes, list.name, rt));
    } catch (error) {
      throw new LibcniError(`failed to set network "${list.name}" cached result: ${errorText(error)}`, { cause: error });
    }
    return result;
  }

  /**
   * DEL: run the plugins in reverse order with the cached result as `prevResult` (0.4.0 and
   * later); a cache that cannot be read is removed and DEL goes on without it. The cache is
   * removed on success.
   */
  async delNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    let cached: Result | undefined;
    if (versionAtLeast(list.cniVersion, '0.4.0')) {
      try {
        cached = readCachedResult(this.cacheDir, list.name, list.cniVersion, rt);
      } catch {
        deleteCache(this.cacheDir, list.name, rt);
        cached = undefined;
      }
    }
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.#runWithoutResult('DEL', list.name, list.cniVersion, plugin, cached, rt, options);
      } catch (error) {
        throw this.#wrap(plugin, 'delete', error);
      }
    }
    deleteCache(this.cacheDir, list.name, rt);
  }

  /**
   * CHECK: refused below 0.4.0, nothing with `disableCheck`; plugins in order with the cached
   * result as `prevResult`. As upstream, a plugin's error is returned as it is (not wrapped).
   */
  async checkNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      throw new LibcniError(`configuration version "${list.cniVersion}" does not support the CHECK command`, {
        code: CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION,
      });
    }
    if (list.disableCheck) return;
    let cached: Result | undefined;
    try {
      cached = readCachedResult(this.cacheDir, list.name, list.cniVersion, rt);
    } catch (error) {
      throw new LibcniError(`failed to get network "${list.name}" cached result: ${errorText(error)}`, { cause: error });
    }
    for (const plugin of list.plugins) {
      await this.#runWithoutResult('CHECK', list.name, list.cniVersion, plugin, cached, rt, options);
    }
  }

  /**
   * GC: nothing with `disableGC`. First DEL of every cached attachment of this network that is
   * not in `args.validAttachments` (every one without `args`), with its cached netns and
   * arguments; then, from 1.1.0, GC to every plugin with `cni.dev/valid-attachments` and its
   * older alias `cni.dev/attachments`. Goes on after errors and throws them together.
   */
  async gcNetworkList(list: NetworkConfigList, args?: GcArgs, options: CallOptions = {}): Promise<void> {
    if (list.disableGC) return;
    let attachments: NetworkAttachment[];
    try {
      attachments = listCachedAttachments(this.cacheDir);
    } catch {
      // Upstream gives up quietly when the cache cannot be listed.
      return;
    }
    const valid = new Set((args?.validAttachments ?? []).map((a) => `${a.containerID}\u0000${a.ifname}`));
    const errors: Error[] = [];
    for (const attachment of attachments) {
      if (attachment.network !== list.name) continue;
      if (args && valid.has(`${attachment.containerId}\u0000${attachment.ifName}`)) continue;
      const rt: RuntimeConf = {
        containerId: attachment.containerId,
        netns: attachment.netns,
        ifName: attachment.ifName,
        args: attachment.cniArgs,
        capabilityArgs: attachment.capabilityArgs,
      };
      try {
        await this.delNetworkList(list, rt, options);
      } catch (error) {
        errors.push(new LibcniError(`failed to delete stale attachment ${rt.containerId} ${rt.ifName}: ${errorText(error)}`, { cause: error, code: (error as LibcniError).code }));
      }
    }
    if (versionAtLeast(list.cniVersion, '1.1.0')) {
      for (const plugin of list.plugins) {
        const conf = buildOneConfig(list.name, list.cniVersion, plugin, undefined, undefined);
        if (args) {
          const validAttachments = args.validAttachments.map(({ containerID, ifname }) => ({ containerID, ifname }));
          conf['cni.dev/valid-attachments'] = validAttachments;
          // cni#1101: the spec's first text named the key this way; libcni sends both.
          conf['cni.dev/attachments'] = validAttachments;
        }
        try {
          this.#assertFound(plugin.network.type);
          await this.#run(plugin.network.type, encoder.encode(JSON.stringify(conf)), this.#args('GC', {}), options);
        } catch (error) {
          errors.push(new LibcniError(`failed to GC plugin ${plugin.network.type}: ${errorText(error)}`, { cause: error, code: (error as CniError).code }));
        }
      }
    }
    if (errors.length > 0) throw new MultiError(errors);
  }

  /**
   * STATUS: nothing below 1.1.0; plugins in order, stopping at the first error, which is
   * returned as the plugin gave it (its code tells 50 from 51).
   */
  async getStatusNetworkList(list: NetworkConfigList, options: CallOptions = {}): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '1.1.0')) return;
    for (const plugin of list.plugins) {
      const conf = buildOneConfig(list.name, list.cniVersion, plugin, undefined, undefined);
      this.#assertFound(plugin.network.type);
      await this.#run(plugin.network.type, encoder.encode(JSON.stringify(conf)), this.#args('STATUS', {}), options);
    }
  }

  /**
   * What plugin `type` answers to VERSION (upstream's `GetVersionInfo`): a plugin too old to know
   * VERSION supports 0.1.0.
   */
  async getVersionInfo(type: string, options: CallOptions = {}): Promise<PluginInfo> {
    this.#assertFound(type);
    const args: InvokeArgs = { command: 'VERSION', netns: 'dummy', ifName: 'dummy', path: 'dummy' };
    try {
      const stdout = await this.#run(type, encoder.encode('{"cniVersion":"1.1.0"}'), args, options);
      return decodeVersionInfo(stdout);
    } catch (error) {
      if (CniError.isInstance(error) && errorText(error) === 'unknown CNI_COMMAND: VERSION') {
        return { cniVersion: '1.1.0', supportedVersions: ['0.1.0'] };
      }
      throw error;
    }
  }

  /**
   * Check that every plugin exists and supports the list's version exactly (upstream's
   * `ValidateNetworkList`); resolves to the capabilities the plugins enable, in first-seen order.
   */
  async validateNetworkList(list: NetworkConfigList, options: CallOptions = {}): Promise<string[]> {
    const version = effectiveVersion(list.cniVersion);
    const capabilities = new Set<string>();
    const errors: Error[] = [];
    for (const plugin of list.plugins) {
      try {
        const info = await this.getVersionInfo(plugin.network.type, options);
        if (!info.supportedVersions.includes(version)) {
          throw new LibcniError(`plugin ${plugin.network.type} does not support config version "${version}"`, {
            code: CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION,
          });
        }
      } catch (error) {
        errors.push(error instanceof Error ? error : new Error(String(error)));
      }
      for (const [capability, enabled] of Object.entries(plugin.network.capabilities ?? {})) {
        if (enabled === true) capabilities.add(capability);
      }
    }
    if (errors.length > 0) throw new MultiError(errors, `[${errors.map(errorText).join(' ')}]`);
    return [...capabilities];
  }

  /**
   * ADD of one plugin configuration (a deprecated single `.conf`, upstream's `AddNetwork`): its
   * own `name` and `cniVersion`, the same cache file naming as a list.
   */
  async addNetwork(plugin: PluginConfig, rt: RuntimeConf, options: CallOptions = {}): Promise<Result> {
    const { name, cniVersion } = singleIdentity(plugin);
    const result = await this.#addNetwork(name, cniVersion, plugin, undefined, rt, options);
    try {
      writeCache(this.cacheDir, cacheRecord(result, plugin.bytes, name, rt));
    } catch (error) {
      throw new LibcniError(`failed to set network "${name}" cached result: ${errorText(error)}`, { cause: error });
    }
    return result;
  }

  /** DEL of one plugin configuration (upstream's `DelNetwork`), with the cached result from 0.4.0. */
  async delNetwork(plugin: PluginConfig, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    const { name, cniVersion } = singleIdentity(plugin);
    let cached: Result | undefined;
    if (versionAtLeast(cniVersion, '0.4.0')) {
      try {
        cached = readCachedResult(this.cacheDir, name, cniVersion, rt);
      } catch {
        deleteCache(this.cacheDir, name, rt);
      }
    }
    await this.#runWithoutResult('DEL', name, cniVersion, plugin, cached, rt, options);
    deleteCache(this.cacheDir, name, rt);
  }

  /** CHECK of one plugin configuration (upstream's `CheckNetwork`). */
  async checkNetwork(plugin: PluginConfig, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    const { name, cniVersion } = singleIdentity(plugin);
    if (!versionAtLeast(cniVersion, '0.4.0')) {
      throw new LibcniError(`configuration version "${cniVersion}" does not support the CHECK command`, {
        code: CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION,
      });
    }
    let cached: Result | undefined;
    try {
      cached = readCachedResult(this.cacheDir, name, cniVersion, rt);
    } catch (error) {
      throw new LibcniError(`failed to get network "${name}" cached result: ${errorText(error)}`, { cause: error });
    }
    await this.#runWithoutResult('CHECK', name, cniVersion, plugin, cached, rt, options);
  }

  /** The cached result of an attachment, in the list's version; undefined without a cache. */
  getNetworkListCachedResult(list: NetworkConfigList, rt: RuntimeConf): Result | undefined {
    return readCachedResult(this.cacheDir, list.name, list.cniVersion, rt);
  }

  /** The cached configuration bytes of an attachment and `rt` with its cached arguments. */
  getNetworkListCachedConfig(list: NetworkConfigList, rt: RuntimeConf): { config: Uint8Array; rt: RuntimeConf } | undefined {
    return readCachedConfig(this.cacheDir, list.name, rt);
  }

  /** The attachments the cache remembers, all of them or those of `containerId`. */
  getCachedAttachments(containerId = ''): NetworkAttachment[] {
    return listCachedAttachments(this.cacheDir, containerId);
  }

  /** Parse a result a plugin printed, as libcni does after ADD (exported for tools that exec by hand). */
  static parsePluginResult(stdout: Uint8Array, confVersion: string): Result {
    return parsePluginResult(stdout, confVersion);
  }
}
