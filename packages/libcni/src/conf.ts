// SPDX-License-Identifier: Apache-2.0
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CniError, parseNetConfList, type PluginConf } from '@cni/spec';
import { ConfigError, errorText, NetworkNotFoundError } from './errors.ts';

/**
 * One plugin of a network: its decoded object and the bytes it was read from (upstream's
 * `PluginConfig`). Before a run, libcni injects `name`, `cniVersion`, `prevResult` and
 * `runtimeConfig` into a copy of the object.
 */
export interface PluginConfig {
  /** The plugin object; `name` and `cniVersion` are present only in a deprecated single `.conf`. */
  readonly network: PluginConf & { name?: string; cniVersion?: string };
  /** The JSON the object came from. */
  readonly bytes: Uint8Array;
}

/**
 * A network configuration list as libcni runs it (upstream's `NetworkConfigList`):
 * `cniVersion` is the negotiated version (the highest of `cniVersions` and `cniVersion` this
 * library implements), flags are booleans, and `bytes` is the file as read (the cache keeps it).
 */
export interface NetworkConfigList {
  readonly name: string;
  readonly cniVersion: string;
  readonly disableCheck: boolean;
  readonly disableGC: boolean;
  readonly loadOnlyInlinedPlugins: boolean;
  readonly plugins: readonly PluginConfig[];
  readonly bytes: Uint8Array;
  /** The file it was loaded from, if any (for messages). */
  readonly file?: string | undefined;
}

const encoder = new TextEncoder();

function toBytes(input: Uint8Array | string): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

function where(file: string | undefined): string {
  return file === undefined ? '' : ` "${file}"`;
}

/** The key a spec error names (`invalid plugins[0].type 5, must be ...`), if any. */
function keyOf(error: CniError): string | undefined {
  return /^invalid (\S+) /.exec(error.message)?.[1];
}

/**
 * Parse one plugin object (a `<dir>/<network>/*.conf` file or a deprecated single `.conf`):
 * JSON with a non-empty `type`, as upstream's `NetworkPluginConfFromBytes`.
 */
export function pluginConfFromBytes(input: Uint8Array | string, file?: string): PluginConfig {
  const bytes = toBytes(input);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ConfigError(`error parsing configuration${where(file)}: ${errorText(error)}`, { file, cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`error parsing configuration${where(file)}: expected a JSON object`, { file });
  }
  const network = value as Record<string, unknown>;
  if (typeof network.type !== 'string' || network.type === '') {
    throw new ConfigError(`error parsing configuration${where(file)}: missing 'type'`, { file, key: 'type' });
  }
  for (const key of ['name', 'cniVersion'] as const) {
    if (network[key] !== undefined && typeof network[key] !== 'string') {
      throw new ConfigError(`error parsing configuration${where(file)}: invalid ${key} ${JSON.stringify(network[key])}, must be a string`, {
        file,
        key,
      });
    }
  }
  return { network: network as PluginConfig['network'], bytes };
}

/**
 * Parse a configuration list (upstream's `NetworkConfFromBytes`), with @cni/spec's checks of
 * every well-known key. Does not read the `<dir>/<name>/*.conf` files: see
 * {@link confListFromFile}. Throws a {@link ConfigError} naming the file and the key.
 */
export function confListFromBytes(input: Uint8Array | string, file?: string): NetworkConfigList {
  const bytes = toBytes(input);
  let parsed;
  try {
    parsed = parseNetConfList(bytes);
  } catch (error) {
    const cniError = error as CniError;
    const text = errorText(cniError).replace(/^error parsing configuration list: /, '');
    throw new ConfigError(`error parsing configuration list${where(file)}: ${text}`, {
      file,
      key: keyOf(cniError),
      code: cniError.code,
      cause: error,
    });
  }
  const plugins = parsed.plugins.map((plugin) => ({ network: plugin, bytes: encoder.encode(JSON.stringify(plugin)) }));
  return {
    name: parsed.name,
    cniVersion: parsed.cniVersion,
    disableCheck: parsed.disableCheck === true,
    disableGC: parsed.disableGC === true,
    loadOnlyInlinedPlugins: parsed.loadOnlyInlinedPlugins === true,
    plugins,
    bytes,
    file,
  };
}

/**
 * The files of `dir` whose extension is one of `extensions` (`.conflist`), unsorted, skipping
 * folders; a missing folder has none (upstream's `ConfFiles`).
 */
export function confFiles(dir: string, extensions: readonly string[]): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`failed to read ${dir}: ${errorText(error)}`, { cause: error });
  }
  return entries.filter((entry) => !entry.isDirectory() && extensions.includes(extname(entry.name))).map((entry) => join(dir, entry.name));
}

function readFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`error reading ${file}: ${errorText(error)}`, { file, cause: error });
  }
}

/** Upstream sorts file names as Go's `sort.Strings` does: by bytes, not by locale. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The extra plugins of network `name`: `<dir>/<name>/*.conf`, in name order, each a plugin
 * object (upstream's `NetworkPluginConfsFromFiles`).
 */
export function pluginConfsFromFiles(dir: string, name: string): PluginConfig[] {
  const files = confFiles(join(dir, name), ['.conf']).sort(byteOrder);
  return files.map((file) => pluginConfFromBytes(readFile(file), file));
}

/**
 * Load a `.conflist` file: the inlined plugins, then `<dir>/<name>/*.conf` unless
 * `loadOnlyInlinedPlugins`; a list that ends with no plugin is an error (`no plugin configs found`).
 */
export function confListFromFile(file: string): NetworkConfigList {
  const list = confListFromBytes(readFile(file), file);
  let plugins = list.plugins;
  if (!list.loadOnlyInlinedPlugins) {
    const dir = file.slice(0, Math.max(0, file.lastIndexOf('/'))) || '.';
    plugins = [...plugins, ...pluginConfsFromFiles(dir, list.name)];
  }
  if (plugins.length === 0) throw new ConfigError(`no plugin configs found in "${file}"`, { file, key: 'plugins' });
  return { ...list, plugins };
}

/**
 * Find the deprecated single-plugin configuration named `name` in `dir` (`*.conf` and `*.json`,
 * in name order; the first that matches wins, a file that does not parse stops the search), as
 * upstream's `LoadConf`.
 */
export function loadConf(dir: string, name: string): PluginConfig {
  const files = confFiles(dir, ['.conf', '.json']).sort(byteOrder);
  if (files.length === 0) throw new NetworkNotFoundError(dir, name, true);
  for (const file of files) {
    const conf = pluginConfFromBytes(readFile(file), file);
    if (conf.network.name === name) return conf;
  }
  throw new NetworkNotFoundError(dir, name, false);
}

/**
 * Lift a single-plugin configuration to a list of one (upstream's `ConfListFromConf`):
 * `{name, cniVersion, plugins: [conf]}`.
 */
export function confListFromConf(conf: PluginConfig, file?: string): NetworkConfigList {
  const raw = JSON.parse(Buffer.from(conf.bytes).toString('utf8')) as Record<string, unknown>;
  const list = { name: conf.network.name ?? '', cniVersion: conf.network.cniVersion ?? '', plugins: [raw] };
  return confListFromBytes(JSON.stringify(list), file);
}

/**
 * Load network `name` from `dir` as upstream's `LoadNetworkConf` does: every `*.conflist` in
 * name order (one that does not parse stops the search), the first whose `name` matches;
 * otherwise a deprecated single `*.conf`/`*.json` of that name, lifted to a list.
 *
 * @example
 * ```ts
 * const list = loadConfList('/etc/cni/net.d', 'pods');
 * ```
 */
export function loadConfList(dir: string, name: string): NetworkConfigList {
  const files = confFiles(dir, ['.conflist']).sort(byteOrder);
  for (const file of files) {
    const list = confListFromFile(file);
    if (list.name === name) return list;
  }
  let single: PluginConfig;
  try {
    single = loadConf(dir, name);
  } catch (error) {
    // Lists exist, single files do not: "not found" says more than "no configurations".
    if (files.length > 0 && NetworkNotFoundError.isInstance(error) && error.noConfigs) {
      throw new NetworkNotFoundError(dir, name, false);
    }
    throw error;
  }
  return confListFromConf(single);
}

/**
 * Every network of `dir` (lists first, then single `.conf`/`.json` files), in upstream's order,
 * for listing tools. A file that does not parse is reported, not skipped.
 */
export function loadAllConfLists(dir: string): NetworkConfigList[] {
  const lists = confFiles(dir, ['.conflist']).sort(byteOrder).map(confListFromFile);
  const singles = confFiles(dir, ['.conf', '.json'])
    .sort(byteOrder)
    .map((file) => confListFromConf(pluginConfFromBytes(readFile(file), file), file));
  return [...lists, ...singles];
}
