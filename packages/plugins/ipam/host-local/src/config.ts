// SPDX-License-Identifier: Apache-2.0
import { Cidr, type IpAddress, parseIpOrCidr } from '@cni/ip';
import { readRequestedIps, readRoutes } from '@cni/ipam';
import { compareVersions, decodeConfig, type Route, type ValueReader } from '@cni/spec';
import {
  canonicalizeRangeSet,
  hostLocalError,
  rangeSetsOverlap,
  type RangeConfig,
  type RangeSet,
} from './range-set.ts';

/** Where upstream keeps its leases when `dataDir` is not set. */
export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

/** A route of the configuration, copied to the result: its `dst`, `gw` and the 1.1.0 fields, type-checked. */
export type RouteConfig = Route;

/** host-local's configuration, read and checked as upstream's `LoadIPAMConfig` does. */
export interface HostLocalConfig {
  /** The network's name: the store's folder under {@link HostLocalConfig.dataDir}. */
  readonly name: string;
  /** The configuration's `cniVersion`. */
  readonly cniVersion: string;
  /** Range sets in order: `runtimeConfig.ipRanges`, then the legacy top-level range, then `ranges`. */
  readonly ranges: readonly RangeSet[];
  /** Routes for the result. */
  readonly routes: readonly RouteConfig[];
  /** The store's parent folder. */
  readonly dataDir: string;
  /** A resolv.conf to read the result's DNS from, or `''`. */
  readonly resolvConf: string;
  /** Requested addresses: CNI_ARGS `IP`, then `args.cni.ips`, then `runtimeConfig.ips`. */
  readonly requested: readonly IpAddress[];
}

/** The inputs of {@link loadHostLocalConfig}: the parsed network configuration and CNI_ARGS `IP`. */
export interface HostLocalConfigInput {
  /** The network configuration (`name`, `cniVersion`, `ipam`, `runtimeConfig`, `args`). */
  conf: Record<string, unknown>;
  /** The `IP` of CNI_ARGS, when given. */
  argsIp?: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requestedAddress(text: string): IpAddress {
  try {
    const parsed = parseIpOrCidr(text);
    // Go's ip.IP keeps the address of a CIDR; the prefix does not matter to host-local.
    return parsed instanceof Cidr ? parsed.address.unmap() : parsed;
  } catch {
    throw hostLocalError(`invalid IP address: ${text}`);
  }
}

/** One range of a range set: an object whose four keys are strings (their meaning is checked later, with upstream's texts). */
function readRange(element: ValueReader): RangeConfig | undefined {
  if (element.absent) return element.fail('an object with a "subnet"');
  const range = element.optObject();
  if (range === undefined) return undefined;
  return {
    subnet: range.optString('subnet'),
    rangeStart: range.optString('rangeStart'),
    rangeEnd: range.optString('rangeEnd'),
    gateway: range.optString('gateway'),
  };
}

/** A list of range sets, each a list of ranges (`[[{subnet}]]`); `[]` when absent. */
function readRangeSets(value: ValueReader): RangeConfig[][] {
  return (
    value.optArray((set) => (set.absent ? set.fail('an array of ranges') : set.optArray((range) => readRange(range)))) ?? []
  );
}

/** Every key host-local knows, type-checked in one pass; the values' meaning is checked after. */
interface RawHostLocalConfig {
  name: string;
  cniVersion: string;
  argsIps: string[];
  runtimeIps: string[];
  runtimeRanges: RangeConfig[][];
  ranges: RangeConfig[][];
  legacy: RangeConfig & { subnet: string | undefined };
  routes: RouteConfig[];
  dataDir: string | undefined;
  resolvConf: string | undefined;
}

function readHostLocalConfig(conf: Record<string, unknown>): RawHostLocalConfig {
  return decodeConfig(conf, (r) => {
    const ipam = r.object('ipam');
    const runtimeConfig = r.optObject('runtimeConfig');
    return {
      name: r.optString('name') ?? '',
      cniVersion: r.optString('cniVersion') ?? '',
      argsIps: readRequestedIps(r.optObject('args')?.optObject('cni')?.key('ips')),
      runtimeIps: readRequestedIps(runtimeConfig?.key('ips')),
      runtimeRanges: runtimeConfig === undefined ? [] : readRangeSets(runtimeConfig.key('ipRanges')),
      ranges: readRangeSets(ipam.key('ranges')),
      legacy: {
        subnet: ipam.optString('subnet'),
        rangeStart: ipam.optString('rangeStart'),
        rangeEnd: ipam.optString('rangeEnd'),
        gateway: ipam.optString('gateway'),
      },
      routes: readRoutes(ipam.key('routes')),
      dataDir: ipam.optString('dataDir'),
      resolvConf: ipam.optString('resolvConf'),
    };
  });
}

/**
 * Read host-local's configuration with upstream's rules and error texts: requested addresses
 * merged, the legacy range and `runtimeConfig.ipRanges` prepended, every range set
 * canonicalised (`invalid range set N: ...`), no two sets overlapping (`range set N overlaps
 * with M`), and at most one set per family before spec 0.3.0.
 *
 * Every known key is type-checked first, in one pass: a value of the wrong type (routes given as
 * an object, a dataDir that is a number, a route whose `dst` is not a CIDR) is code 7 naming the
 * key's path, the expected type and the value. Nothing here touches the store, so a plugin that
 * calls this before it opens the store refuses a bad configuration without reserving anything.
 *
 * @throws CniError code 7 for a key of the wrong type, code 999 with upstream's text otherwise.
 */
export function loadHostLocalConfig(input: HostLocalConfigInput): HostLocalConfig {
  const { conf } = input;
  if (!isRecord(conf.ipam)) throw hostLocalError("IPAM config missing 'ipam' key");
  const raw = readHostLocalConfig(conf);
  const requested: IpAddress[] = [];
  if (input.argsIp !== undefined && input.argsIp !== '') requested.push(requestedAddress(input.argsIp));
  for (const ip of raw.argsIps) requested.push(requestedAddress(ip));
  for (const ip of raw.runtimeIps) requested.push(requestedAddress(ip));

  const configs = [...raw.runtimeRanges];
  if (raw.legacy.subnet !== undefined && raw.legacy.subnet !== '') configs.push([raw.legacy]);
  configs.push(...raw.ranges);
  if (configs.length === 0) throw hostLocalError('no IP ranges specified');

  const ranges: RangeSet[] = [];
  let v4 = 0;
  let v6 = 0;
  for (const [index, config] of configs.entries()) {
    let set: RangeSet;
    try {
      set = canonicalizeRangeSet(config);
    } catch (error) {
      throw hostLocalError(`invalid range set ${index}: ${(error as Error).message}`);
    }
    if (set[0]!.start.family === 4) v4++;
    else v6++;
    ranges.push(set);
  }
  const cniVersion = raw.cniVersion;
  if ((v4 > 1 || v6 > 1) && !atLeast(cniVersion, '0.3.0')) {
    throw hostLocalError(`CNI version ${cniVersion} does not support more than 1 address per family`);
  }
  for (let i = 0; i < ranges.length - 1; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (rangeSetsOverlap(ranges[i]!, ranges[j]!)) throw hostLocalError(`range set ${i} overlaps with ${j}`);
    }
  }
  return {
    name: raw.name,
    cniVersion,
    ranges,
    routes: raw.routes,
    dataDir: raw.dataDir !== undefined && raw.dataDir !== '' ? raw.dataDir : DEFAULT_DATA_DIR,
    resolvConf: raw.resolvConf ?? '',
    requested,
  };
}

function atLeast(version: string, floor: string): boolean {
  try {
    return compareVersions(version === '' ? '0.1.0' : version, floor) >= 0;
  } catch {
    return false;
  }
}
