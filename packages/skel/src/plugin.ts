// SPDX-License-Identifier: Apache-2.0
import type { NetConf, Result } from '@cni/spec';
import type { ArgsSchema, LoadedArgs } from './args.ts';
import type { ConfigCommand } from './env.ts';
import type { PluginLog } from './log.ts';

/** What a plugin may pass to a delegate on stdin: bytes, text, or an object printed as JSON. */
export type DelegateConfig = Uint8Array | string | Record<string, unknown>;

/** Options of a {@link Delegate} call. */
export interface DelegateOptions<C extends ConfigCommand = ConfigCommand> {
  /**
   * The verb the delegate runs; the caller's by default. An ADD that fails after its IPAM ADD
   * passes `'DEL'` to release the address again, as upstream's plugins do.
   */
  command: C;
}

/**
 * Runs another plugin (an IPAM plugin, or a plugin a meta plugin wraps) found in CNI_PATH, with
 * the CNI protocol: the caller's environment with CNI_COMMAND set, `config` on stdin (the
 * caller's own stdin bytes when left out). A delegate's error is thrown unchanged, as a CniError.
 * ADD resolves to the delegate's result, parsed in the version it printed.
 */
export interface Delegate<R> {
  (type: string, config?: DelegateConfig): Promise<R>;
  (type: string, config: DelegateConfig | undefined, options: DelegateOptions<'ADD'>): Promise<Result>;
  (type: string, config: DelegateConfig | undefined, options: DelegateOptions<Exclude<ConfigCommand, 'ADD'>>): Promise<void>;
}

/**
 * A request as a plugin's verb function receives it: the CNI variables read and validated,
 * the configuration parsed, and the tools a plugin needs (CNI_ARGS, delegation, a debug log).
 * Variables a verb does not use (the container, netns and interface of GC and STATUS) are `''`.
 */
export interface PluginRequest<C extends ConfigCommand = ConfigCommand> {
  /** The verb. */
  readonly command: C;
  /** CNI_CONTAINERID. */
  readonly containerId: string;
  /** CNI_NETNS: the path of the container's network namespace (may be `''` on DEL). */
  readonly netns: string;
  /** CNI_IFNAME: the interface to create or act on inside the container. */
  readonly ifName: string;
  /** CNI_ARGS read leniently into a record; see {@link PluginRequest.loadArgs} for upstream's strict rules. */
  readonly args: Readonly<Record<string, string>>;
  /** CNI_ARGS as given. */
  readonly argsString: string;
  /** CNI_ARGS read with upstream's `types.LoadArgs` rules into `schema`'s keys (see `loadArgs`). */
  loadArgs<S extends ArgsSchema>(schema: S): LoadedArgs<S>;
  /** CNI_PATH as a list of folders. */
  readonly path: readonly string[];
  /** True when CNI_NETNS_OVERRIDE (`1`/`true`) lets CNI_NETNS be the plugin's own namespace. */
  readonly netnsOverride: boolean;
  /** The configuration as received on stdin. */
  readonly stdinData: Uint8Array;
  /** The configuration, parsed; keys the spec does not define are kept for the plugin to read. */
  readonly conf: NetConf;
  /**
   * `conf.prevResult` parsed as a result of the configuration's version, or undefined without
   * one. Parsed on first read, so plugins that ignore it never fail on it; a malformed one
   * throws code 7 (`could not parse prevResult: ...`).
   */
  readonly prevResult: Result | undefined;
  /** The debug log (CNI_LOG_FILE or the config's `logFile`); a no-op unless switched on. */
  readonly log: PluginLog;
  /** Run a delegate plugin found in CNI_PATH; ADD resolves to its result. */
  readonly delegate: Delegate<C extends 'ADD' ? Result : void>;
}

/** The request of an ADD. */
export type AddRequest = PluginRequest<'ADD'>;
/** The request of a DEL. */
export type DelRequest = PluginRequest<'DEL'>;
/** The request of a CHECK. */
export type CheckRequest = PluginRequest<'CHECK'>;
/** The request of a GC; `conf['cni.dev/valid-attachments']` lists the attachments to keep. */
export type GcRequest = PluginRequest<'GC'>;
/** The request of a STATUS. */
export type StatusRequest = PluginRequest<'STATUS'>;

type MaybePromise<T> = T | Promise<T>;

/**
 * What a plugin implements, as upstream's `skel.CNIFuncs` plus its name and versions. Throwing
 * fails the request: a CniError is printed as it is, anything else as code 999 with its message.
 */
export interface PluginDefinition {
  /** The plugin's type, as upstream names its binary (`bridge`, `host-local`). */
  name: string;
  /** The spec versions the plugin serves; a config of any other version is refused with code 1. */
  versions: readonly string[];
  /** Replaces the text printed when CNI_COMMAND is unset (default `CNI <name> plugin v<version>`). */
  about?: string;
  /** ADD: returns the result, in any version; skel prints it in the configuration's version. */
  add(request: AddRequest): MaybePromise<Result>;
  /** DEL: release everything ADD made; must succeed when it is already gone. */
  del(request: DelRequest): MaybePromise<void>;
  /** CHECK (config 0.4.0 and later); succeeds without checking when left out, as upstream's skel. */
  check?(request: CheckRequest): MaybePromise<void>;
  /** GC (config 1.1.0 and later); a no-op success when left out. */
  gc?(request: GcRequest): MaybePromise<void>;
  /** STATUS (config 1.1.0 and later): throw code 50 or 51 when not ready; success when left out. */
  status?(request: StatusRequest): MaybePromise<void>;
}

/** A plugin as a value: what {@link definePlugin} returns and `runPlugin` runs. */
export interface CniPlugin extends Readonly<PluginDefinition> {
  /** @internal Tells a plugin value from a look-alike object. */
  readonly kind: 'cni-plugin';
}

/**
 * Define a plugin. The value is side-effect free: the bundle's executable, an in-process
 * runtime and the tests all run it through `runPlugin`.
 *
 * @example
 * ```ts
 * export const sample = definePlugin({
 *   name: 'sample',
 *   versions: ALL_SPEC_VERSIONS,
 *   add: async (request) => request.prevResult!,
 *   del: async () => {},
 * });
 * ```
 */
export function definePlugin(definition: PluginDefinition): CniPlugin {
  if (typeof definition.name !== 'string' || definition.name === '') throw new TypeError('a plugin needs a name');
  if (definition.versions.length === 0) throw new TypeError(`plugin "${definition.name}" supports no spec version`);
  return Object.freeze({ ...definition, versions: Object.freeze([...definition.versions]), kind: 'cni-plugin' as const });
}
