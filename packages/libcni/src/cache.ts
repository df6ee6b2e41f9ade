// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertResult, parseResult, type Result } from '@cni/spec';
import { errorText, LibcniError } from './errors.ts';

/** Where upstream's libcni keeps its cache when the runtime names no other place. */
export const DEFAULT_CACHE_DIR = '/var/lib/cni';

/** The `kind` of upstream's cache files. */
export const CNI_CACHE_V1 = 'cniCacheV1';

/** The identity of an attachment and what a later DEL needs (upstream's `RuntimeConf`). */
export interface RuntimeConf {
  /** CNI_CONTAINERID. */
  containerId: string;
  /** CNI_NETNS: the path of the container's network namespace. */
  netns?: string | undefined;
  /** CNI_IFNAME. */
  ifName: string;
  /** CNI_ARGS as pairs. */
  args?: readonly (readonly [string, string])[] | undefined;
  /** Capability arguments: only keys a plugin declares in `capabilities` reach its `runtimeConfig`. */
  capabilityArgs?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A cache file as upstream writes it (`cachedInfo` in libcni/api.go), field for field and in
 * its order; `config` is the base64 of the list's bytes, as Go marshals a `[]byte`.
 */
export interface CacheFileV1 {
  kind: 'cniCacheV1';
  containerId: string;
  config: string | null;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

/** An attachment the cache remembers (upstream's `NetworkAttachment`). */
export interface NetworkAttachment {
  containerId: string;
  network: string;
  ifName: string;
  /** The configuration list's bytes at ADD time. */
  config: Uint8Array;
  netns: string | undefined;
  cniArgs: [string, string][] | undefined;
  capabilityArgs: Record<string, unknown> | undefined;
}

/** `<cacheDir>/results/<network>-<containerId>-<ifName>`, upstream's file name. */
export function cacheFilePath(cacheDir: string, network: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): string {
  if (network === '' || rt.containerId === '' || rt.ifName === '') {
    throw new LibcniError(
      `cache file path requires network name (${JSON.stringify(network)}), container ID (${JSON.stringify(rt.containerId)}), and interface name (${JSON.stringify(rt.ifName)})`,
    );
  }
  return join(cacheDir, 'results', `${network}-${rt.containerId}-${rt.ifName}`);
}

/** The cache record of an ADD, in upstream's field order with Go's `omitempty` applied. */
export function cacheRecord(result: Result | undefined, config: Uint8Array, network: string, rt: RuntimeConf): CacheFileV1 {
  const record: CacheFileV1 = {
    kind: CNI_CACHE_V1,
    containerId: rt.containerId,
    config: Buffer.from(config).toString('base64'),
    ifName: rt.ifName,
    networkName: network,
  };
  if (rt.netns) record.netns = rt.netns;
  if (rt.args && rt.args.length > 0) record.cniArgs = rt.args.map(([key, value]) => [key, value]);
  if (rt.capabilityArgs && Object.keys(rt.capabilityArgs).length > 0) record.capabilityArgs = { ...rt.capabilityArgs };
  if (result && Object.keys(result).length > 0) record.result = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  return record;
}

/**
 * Write the cache of an ADD: folder 0700, file 0600, through a temporary file renamed into
 * place, so that a reader (or a crash) never sees half a file.
 */
export function writeCache(cacheDir: string, record: CacheFileV1): void {
  const file = cacheFilePath(cacheDir, record.networkName, record);
  const dir = join(cacheDir, 'results');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Hidden, so that a listing of attachments never reads a file being written.
  const temp = join(dir, `.${record.networkName}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, JSON.stringify(record), { mode: 0o600 });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Remove an attachment's cache; a missing file (or an incomplete identity) is not an error. */
export function deleteCache(cacheDir: string, network: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): void {
  let file: string;
  try {
    file = cacheFilePath(cacheDir, network, rt);
  } catch {
    return;
  }
  rmSync(file, { force: true });
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    // Upstream ignores read errors: the cached result may not exist on disk.
    return undefined;
  }
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}

function isRecordV1(value: unknown): value is CacheFileV1 {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).kind === CNI_CACHE_V1;
}

/**
 * The cached result of an attachment converted to `cniVersion` (upstream's `getCachedResult`):
 * undefined when there is no cache file; a file that is not a v1 record is read as a legacy
 * cache (the raw result). Throws when the file holds no usable result.
 */
export function readCachedResult(cacheDir: string, network: string, cniVersion: string, rt: RuntimeConf): Result | undefined {
  const bytes = readIfThere(cacheFilePath(cacheDir, network, rt));
  if (bytes === undefined) return undefined;
  let raw: unknown;
  try {
    const value = parseJson(bytes);
    raw = isRecordV1(value) ? value.result ?? {} : value;
  } catch (error) {
    throw new LibcniError(`failed to parse cached result of network "${network}": ${errorText(error)}`, { cause: error });
  }
  try {
    const result = parseResult(raw);
    // The cache holds the version of ADD time; plugins want the config's, which may since differ.
    return convertResult(result, cniVersion);
  } catch (error) {
    throw new LibcniError(`failed to convert cached result to config version "${cniVersion}": ${errorText(error)}`, { cause: error });
  }
}

/**
 * The configuration an attachment was added with and its runtime arguments (upstream's
 * `getCachedConfig`): undefined without a cache file; cniArgs and capabilityArgs restored into
 * a copy of `rt`.
 */
export function readCachedConfig(
  cacheDir: string,
  network: string,
  rt: RuntimeConf,
): { config: Uint8Array; rt: RuntimeConf } | undefined {
  const bytes = readIfThere(cacheFilePath(cacheDir, network, rt));
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = parseJson(bytes);
  } catch (error) {
    throw new LibcniError(`failed to unmarshal cached network "${network}" config: ${errorText(error)}`, { cause: error });
  }
  if (!isRecordV1(value)) {
    const kind = (value as Record<string, unknown> | null)?.kind;
    throw new LibcniError(`read cached network "${network}" config has wrong kind: ${String(kind ?? '')}`);
  }
  return {
    config: Buffer.from(value.config ?? '', 'base64'),
    rt: { ...rt, ...(value.cniArgs ? { args: value.cniArgs } : {}), capabilityArgs: value.capabilityArgs },
  };
}

/**
 * Every attachment of the cache, or those of `containerId` (upstream's `GetCachedAttachments`):
 * files in name order, skipping those that are unreadable, not v1 records or incomplete.
 */
export function listCachedAttachments(cacheDir: string, containerId = ''): NetworkAttachment[] {
  const dir = join(cacheDir, 'results');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const found: NetworkAttachment[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (containerId !== '') {
      const part = `-${containerId}-`;
      const at = name.indexOf(part);
      if (at <= 0 || at + part.length >= name.length) continue;
    }
    let value: unknown;
    try {
      value = parseJson(readFileSync(join(dir, name)));
    } catch {
      continue;
    }
    if (!isRecordV1(value)) continue;
    if (containerId !== '' && value.containerId !== containerId) continue;
    if (!value.ifName || !value.networkName) continue;
    found.push({
      containerId: value.containerId,
      network: value.networkName,
      ifName: value.ifName,
      config: Buffer.from(value.config ?? '', 'base64'),
      netns: value.netns,
      cniArgs: value.cniArgs,
      capabilityArgs: value.capabilityArgs,
    });
  }
  return found;
}
