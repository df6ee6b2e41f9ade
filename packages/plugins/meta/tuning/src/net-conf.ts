// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { sysctlPath, SysctlError } from '@cni/netns';
import { argString, type PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, type NetConf, type Result } from '@cni/spec';
import { duplicateSysctlKeys } from './json-keys.ts';

/** Where upstream keeps its backups of the original link attributes. */
export const DEFAULT_DATA_DIR = '/run/cni/tuning';

/** Upstream's allowlist: one regular expression per line; an absent file allows every sysctl. */
export const DEFAULT_ALLOWLIST = '/etc/cni/tuning/allowlist.conf';

/**
 * The environment variable that points the plugin at another allowlist file. An environment
 * variable and not a configuration key, because the allowlist restricts what a configuration (and
 * its `args.cni.sysctl`) may ask for: the configuration must not be able to choose its own.
 */
export const ALLOWLIST_ENV = 'CNI_TUNING_ALLOWLIST';

/** Tuning's configuration after upstream's precedence (args.cni > runtimeConfig > CNI_ARGS > top level). */
export interface TuningNetConf extends NetConf {
  /** Where the backup of the original values goes. */
  dataDir: string;
  /** The sysctls to write, in the order given: key as written and the value. */
  sysctl: [key: string, value: string][];
  /** The MAC address to set, normalised to lowercase with colons. */
  mac: string | undefined;
  /** Turn promiscuous mode on (false leaves it as it is, as upstream). */
  promisc: boolean;
  /** The MTU to set; 0 leaves it. */
  mtu: number;
  /** All-multicast on or off; undefined leaves it. */
  allmulti: boolean | undefined;
  /** The transmit queue length; undefined leaves it. */
  txQLen: number | undefined;
  /** The previous plugin's result: tuning is chained only. */
  parsedPrevResult: Result | undefined;
}

/** Options of {@link loadConf}. */
export interface LoadConfOptions {
  /** The allowlist file; default {@link ALLOWLIST_ENV} from `env`, then {@link DEFAULT_ALLOWLIST}. */
  allowlist?: string;
  /** The environment to read {@link ALLOWLIST_ENV} from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Apply the allowlist. Default true; DEL and GC skip it, so a changed allowlist never blocks a cleanup. */
  checkAllowlist?: boolean;
}

const isAbsent = (value: unknown): value is undefined | null => value === undefined || value === null;

/** Reads a MAC as Go's `net.ParseMAC` reads a 6-byte one (colons or hyphens), normalised. */
export function parseMac(key: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(value) || new Set(value.replace(/[0-9a-fA-F]/g, '')).size !== 1) {
    throw invalidConfigError(key, value, 'a MAC address like "c2:11:22:33:44:55"');
  }
  return value.toLowerCase().replaceAll('-', ':');
}

function boolValue(key: string, value: unknown): boolean | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'boolean') throw invalidConfigError(key, value, 'a boolean');
  return value;
}

function intValue(key: string, value: unknown, max: number): number | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalidConfigError(key, value, `an integer in [0, ${max}]`);
  }
  return value;
}

function sysctlMap(key: string, value: unknown): [string, string][] {
  if (isAbsent(value)) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidConfigError(key, value, 'an object of sysctl keys to string values');
  return Object.entries(value as Record<string, unknown>).map(([name, setting]) => {
    if (typeof setting !== 'string') throw invalidConfigError(`${key}["${name}"]`, setting, 'a string');
    return [name, setting];
  });
}

/** The allowlist's expressions, or undefined when the file does not exist (every sysctl allowed). */
export function readAllowlist(path: string): RegExp[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new CniError(CNI_ERROR_CODES.IO_FAILURE, `failed to read sysctl allowlist "${path}": ${(error as Error).message}`, { cause: error });
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      try {
        // Unanchored, as Go's regexp.MatchString.
        return new RegExp(line);
      } catch (error) {
        throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid expression "${line}" in sysctl allowlist "${path}": ${(error as Error).message}`);
      }
    });
}

/**
 * Read tuning's keys as upstream's `parseConf`, with the checks upstream makes later (or not at
 * all) made up front, so that a refused configuration changes nothing: duplicated sysctl keys, keys
 * outside `/proc/sys/net` (`..` included), keys the allowlist does not list, and wrong types, each a
 * CNI error naming the key and the value.
 */
export function loadConf(
  request: Pick<PluginRequest, 'conf' | 'prevResult' | 'stdinData' | 'ifName' | 'loadArgs'>,
  options: LoadConfOptions = {},
): TuningNetConf {
  const conf = request.conf;
  const duplicated = duplicateSysctlKeys(request.stdinData);
  if (duplicated.length > 0) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `duplicated sysctl keys are not allowed: "${duplicated.join('", "')}"`);
  }

  const dataDir = conf['dataDir'];
  if (!isAbsent(dataDir) && (typeof dataDir !== 'string' || !dataDir.startsWith('/'))) {
    throw invalidConfigError('dataDir', dataDir, 'an absolute path');
  }
  const sysctl = new Map(sysctlMap('sysctl', conf['sysctl']));
  let mac = isAbsent(conf['mac']) || conf['mac'] === '' ? undefined : parseMac('mac', conf['mac']);
  let promisc = boolValue('promisc', conf['promisc']) ?? false;
  let mtu = intValue('mtu', conf['mtu'], 65535) ?? 0;
  let allmulti = boolValue('allmulti', conf['allmulti']);
  let txQLen = intValue('txQLen', conf['txQLen'], 0xffffffff);

  // Precedence as upstream: CNI_ARGS MAC, then runtimeConfig.mac, then args.cni.
  const { MAC } = request.loadArgs({ MAC: argString });
  if (MAC) mac = parseMac('CNI_ARGS MAC', MAC);
  const runtimeMac = conf.runtimeConfig?.['mac'];
  if (!isAbsent(runtimeMac) && runtimeMac !== '') mac = parseMac('runtimeConfig.mac', runtimeMac);
  const args = (conf.args as { cni?: unknown } | undefined)?.cni;
  if (!isAbsent(args)) {
    if (typeof args !== 'object' || Array.isArray(args)) throw invalidConfigError('args.cni', args, 'an object');
    const cni = args as Record<string, unknown>;
    for (const [key, value] of sysctlMap('args.cni.sysctl', cni['sysctl'])) sysctl.set(key, value);
    if (!isAbsent(cni['mac'])) mac = parseMac('args.cni.mac', cni['mac']);
    promisc = boolValue('args.cni.promisc', cni['promisc']) ?? promisc;
    mtu = intValue('args.cni.mtu', cni['mtu'], 65535) ?? mtu;
    allmulti = boolValue('args.cni.allmulti', cni['allmulti']) ?? allmulti;
    txQLen = intValue('args.cni.txQLen', cni['txQLen'], 0xffffffff) ?? txQLen;
  }

  for (const key of sysctl.keys()) {
    try {
      sysctlPath(key, request.ifName === '' ? {} : { ifname: request.ifName });
    } catch (error) {
      if (SysctlError.isInstance(error)) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, error.message, { cause: error });
      throw error;
    }
  }
  if (sysctl.size > 0 && options.checkAllowlist !== false) {
    const allowlistPath = options.allowlist ?? (options.env ?? process.env)[ALLOWLIST_ENV] ?? DEFAULT_ALLOWLIST;
    const allowlist = readAllowlist(allowlistPath);
    if (allowlist) {
      for (const key of sysctl.keys()) {
        if (!allowlist.some((pattern) => pattern.test(key))) {
          throw new CniError(
            CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
            `sysctl "${key}" is not allowed by "${allowlistPath}": only sysctls matching ${allowlist.map((pattern) => `"${pattern.source}"`).join(', ')} are`,
          );
        }
      }
    }
  }

  return {
    ...conf,
    dataDir: (dataDir as string | undefined) ?? DEFAULT_DATA_DIR,
    sysctl: [...sysctl],
    mac,
    promisc,
    mtu,
    allmulti,
    txQLen,
    parsedPrevResult: request.prevResult,
  };
}

/** True when ADD changes a link attribute (and so keeps a backup, as upstream). */
export function changesLink(conf: TuningNetConf): boolean {
  return conf.mac !== undefined || conf.promisc || conf.mtu !== 0 || conf.allmulti !== undefined || conf.txQLen !== undefined;
}
