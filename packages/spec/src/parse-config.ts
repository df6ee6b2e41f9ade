// SPDX-License-Identifier: Apache-2.0
import type { NetConf, NetConfList, NetConfWithResult } from './config.ts';
import { CNI_ERROR_CODES, CniError } from './errors.ts';
import { isObject, jsonType } from './internal/json.ts';
import {
  absent,
  type Fail,
  failWith,
  optArray,
  optBoolean,
  optObject,
  optString,
  own,
} from './internal/read.ts';
import { parseResult, readDns } from './result/parse.ts';
import { effectiveVersion, negotiateConfigVersion } from './version.ts';

/**
 * The most a plugin reads from stdin, and the largest configuration the parsers accept: 10 MiB.
 * Real configurations are a few KiB; the cap keeps a runaway runtime (or a `cat /dev/zero`) from
 * making a plugin buffer without bound.
 */
export const MAX_STDIN_BYTES = 10 * 1024 * 1024;

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * True when `name` is a valid network name or container ID: upstream's
 * `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$` (cni `pkg/utils`). Both end up in file names.
 */
export function isValidName(name: string): boolean {
  return namePattern.test(name);
}

const configFail: Fail = failWith(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG);

function invalidConfig(message: string, details?: string): CniError {
  return new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, message, details === undefined ? {} : { details });
}

function byteLength(input: string): number {
  // A UTF-8 encoding is at least one byte per UTF-16 unit and at most three: count only when
  // the answer is in doubt.
  if (input.length > MAX_STDIN_BYTES || input.length * 3 <= MAX_STDIN_BYTES) return input.length;
  return Buffer.byteLength(input, 'utf8');
}

/** Decode `input` as JSON: code 5 when too large, code 6 when it is not JSON. */
function decode(input: Uint8Array | string, prefix: string): unknown {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (ArrayBuffer.isView(input)) {
    text = '';
  } else {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `${prefix}: expected bytes or a string, got ${jsonType(input)}`);
  }
  const size = typeof input === 'string' ? byteLength(input) : input.byteLength;
  if (size > MAX_STDIN_BYTES) {
    // Code 5 (I/O failure), not 6 or 7: the input was refused while reading, before any of it
    // was decoded, exactly as a failing read of stdin would be.
    throw new CniError(
      CNI_ERROR_CODES.IO_FAILURE,
      `${prefix}: input of ${size} bytes is larger than the limit of ${MAX_STDIN_BYTES} bytes (10 MiB)`,
    );
  }
  if (typeof input !== 'string') {
    // Like Go's decoder, bytes that are not UTF-8 become U+FFFD instead of failing; a BOM is
    // kept, so that JSON.parse refuses it as Go does.
    text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `${prefix}: ${reason}`, { cause: error });
  }
}

function checkName(value: unknown): string {
  if (absent(value) || value === '') throw invalidConfig('missing network name');
  if (typeof value !== 'string') configFail('name', value, 'a string');
  if (!isValidName(value)) {
    // Upstream's text, with the name in details as upstream puts it.
    throw invalidConfig('invalid characters found in network name', value);
  }
  return value;
}

const pluginKeys = [
  'cniVersion',
  'name',
  'capabilities',
  'runtimeConfig',
  'args',
  'ipMasq',
  'ipam',
  'dns',
  'prevResult',
  'cni.dev/valid-attachments',
  'cni.dev/attachments',
] as const;

function checkAttachments(value: unknown, path: string): void {
  const array = optArray(value, path, configFail);
  array?.forEach((item, i) => {
    const entry = optObject(item, `${path}[${i}]`, configFail);
    if (!entry) configFail(`${path}[${i}]`, item, 'an object');
    optString(own(entry, 'containerID'), `${path}[${i}].containerID`, configFail);
    optString(own(entry, 'ifname'), `${path}[${i}].ifname`, configFail);
  });
}

/**
 * Type-check the well-known keys of a plugin object in place. A well-known key set to `null`
 * is removed (Go reads null as "not set"), and an `ipam` without `type` gets `type: ""` (what
 * Go reads, and what bridge's L2-only `"ipam": {}` means); every other key is left as it is.
 */
function checkPluginKeys(conf: Record<string, unknown>, prefix: string): void {
  for (const key of pluginKeys) if (conf[key] === null && Object.hasOwn(conf, key)) delete conf[key];
  const p = (key: string) => `${prefix}${key}`;

  optString(own(conf, 'cniVersion'), p('cniVersion'), configFail);
  optString(own(conf, 'name'), p('name'), configFail);
  const type = own(conf, 'type');
  if (absent(type) || type === '') throw invalidConfig(`missing ${p('type')}`);
  if (typeof type !== 'string') configFail(p('type'), type, 'a string');

  const capabilities = optObject(own(conf, 'capabilities'), p('capabilities'), configFail);
  for (const [name, enabled] of Object.entries(capabilities ?? {})) {
    if (typeof enabled !== 'boolean') configFail(p(`capabilities.${name}`), enabled, 'a boolean');
  }
  optObject(own(conf, 'runtimeConfig'), p('runtimeConfig'), configFail);
  const args = optObject(own(conf, 'args'), p('args'), configFail);
  if (args) optObject(own(args, 'cni'), p('args.cni'), configFail);
  optBoolean(own(conf, 'ipMasq'), p('ipMasq'), configFail);

  const ipam = optObject(own(conf, 'ipam'), p('ipam'), configFail);
  if (ipam) {
    const ipamType = optString(own(ipam, 'type'), p('ipam.type'), configFail);
    if (ipamType === undefined) ipam.type = '';
  }
  readDns(own(conf, 'dns'), p('dns'), configFail);
  optObject(own(conf, 'prevResult'), p('prevResult'), configFail);
  checkAttachments(own(conf, 'cni.dev/valid-attachments'), p('cni.dev/valid-attachments'));
  checkAttachments(own(conf, 'cni.dev/attachments'), p('cni.dev/attachments'));
}

/**
 * Parse the configuration a plugin receives on stdin (SPEC.md section 3), with skel's rules:
 * JSON (code 6, `error unmarshall network config: ...`), an object with a valid `name` (code 7,
 * `missing network name` / `invalid characters found in network name`), then a type check of
 * every well-known key (code 7, naming key and value). Keys the spec does not define are kept as
 * they are, for the plugin to read. An input over {@link MAX_STDIN_BYTES} is refused (code 5).
 *
 * A missing or empty `cniVersion` becomes "0.1.0", the version the spec says it means.
 * Never throws anything but a {@link CniError}.
 *
 * @example
 * ```ts
 * const conf = parseNetConf('{"cniVersion":"1.1.0","name":"net","type":"bridge"}');
 * ```
 */
export function parseNetConf(input: Uint8Array | string): NetConf {
  const prefix = 'error unmarshall network config';
  const conf = decode(input, prefix);
  if (!isObject(conf)) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `${prefix}: expected a JSON object, got ${jsonType(conf)}`);
  }
  checkName(own(conf, 'name'));
  checkPluginKeys(conf, '');
  conf.cniVersion = effectiveVersion(conf.cniVersion as string | undefined);
  return conf as NetConf;
}

const versionPattern = /^\d+\.\d+\.\d+$/;

/** libcni's readBool: a boolean, or the strings "true"/"false" in any case. */
function readBool(list: Record<string, unknown>, key: string): boolean | undefined {
  const value = own(list, key);
  if (absent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return configFail(key, value, 'a boolean or "true"/"false"');
}

/**
 * Parse a network configuration list (a `.conflist`, SPEC.md section 1) with libcni's rules.
 * Besides {@link parseNetConf}'s checks of the name and of each plugin object (reported as
 * `plugins[1].ipMasq`...):
 *
 * - `cniVersions` is a list of versions; `cniVersion` becomes the negotiated version, the highest
 *   of `cniVersions` and `cniVersion` this library implements (see {@link negotiateConfigVersion}).
 * - `disableCheck`, `disableGC` and `loadOnlyInlinedPlugins` accept booleans or the strings
 *   "true"/"false" in any case, and come out as booleans.
 * - `plugins` is a non-empty list of objects whose `type` is a plugin name (no `/`). As libcni
 *   allows, a list without `plugins` is accepted (as `plugins: []`) unless
 *   `loadOnlyInlinedPlugins` is true: its plugins come from `<confdir>/<name>/*.conf`.
 *
 * Never throws anything but a {@link CniError}.
 */
export function parseNetConfList(input: Uint8Array | string): NetConfList {
  const prefix = 'error parsing configuration list';
  const list = decode(input, prefix);
  if (!isObject(list)) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `${prefix}: expected a JSON object, got ${jsonType(list)}`);
  }
  checkName(own(list, 'name'));
  const cniVersion = optString(own(list, 'cniVersion'), 'cniVersion', configFail);
  const versions = optArray(own(list, 'cniVersions'), 'cniVersions', configFail);
  versions?.forEach((version, i) => {
    if (typeof version !== 'string' || !versionPattern.test(version)) {
      configFail(`cniVersions[${i}]`, version, 'a version such as "1.1.0"');
    }
  });
  if (versions && cniVersion && !versionPattern.test(cniVersion)) {
    configFail('cniVersion', cniVersion, 'a version such as "1.1.0"');
  }

  for (const key of ['disableCheck', 'disableGC', 'loadOnlyInlinedPlugins']) {
    const value = readBool(list, key);
    if (value === undefined) delete list[key];
    else list[key] = value;
  }

  const plugins = optArray(own(list, 'plugins'), 'plugins', configFail);
  if (!plugins) {
    if (list.loadOnlyInlinedPlugins === true) {
      throw invalidConfig('loadOnlyInlinedPlugins is true, and no "plugins" key');
    }
    list.plugins = [];
  } else if (plugins.length === 0) {
    throw invalidConfig('no plugins in list');
  }
  plugins?.forEach((plugin, i) => {
    if (!isObject(plugin)) configFail(`plugins[${i}]`, plugin, 'an object');
    checkPluginKeys(plugin, `plugins[${i}].`);
    const type = plugin.type as string;
    if (type.includes('/')) configFail(`plugins[${i}].type`, type, 'a plugin name without "/"');
  });

  list.cniVersion = negotiateConfigVersion(cniVersion, versions as string[] | undefined);
  return list as NetConfList;
}

/**
 * Parse a configuration's `prevResult` into a result of the configuration's version, as
 * upstream's `version.ParsePrevResult`: a result without `cniVersion` takes the config's, and a
 * result of another layout than the config's version is refused. Returns a new object; a
 * configuration without `prevResult` comes back without one.
 *
 * Throws code 7 `could not parse prevResult: ...` (the reason in the message, the parser's
 * error as `cause`).
 */
export function parsePrevResult<C extends NetConf>(conf: C): NetConfWithResult<C> {
  const { prevResult, ...rest } = conf;
  if (absent(prevResult)) return rest as unknown as NetConfWithResult<C>;
  try {
    return { ...rest, prevResult: parseResult(prevResult, conf.cniVersion) } as unknown as NetConfWithResult<C>;
  } catch (error) {
    const inner = error instanceof Error ? error : new Error(String(error));
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `could not parse prevResult: ${inner.message}`, {
      cause: error,
      ...(CniError.isInstance(error) && error.details ? { details: error.details } : {}),
    });
  }
}
