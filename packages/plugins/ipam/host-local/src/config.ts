// SPDX-License-Identifier: Apache-2.0
import { Cidr, type IpAddress, parseIpOrCidr } from '@cni/ip';
import { compareVersions } from '@cni/spec';
import {
  canonicalizeRangeSet,
  hostLocalError,
  rangeSetsOverlap,
  type RangeConfig,
  type RangeSet,
} from './range-set.ts';

/** Where upstream keeps its leases when `dataDir` is not set. */
export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

/** A route of the configuration, copied to the result as given. */
export interface RouteConfig {
  dst: string;
  gw?: string;
  [key: string]: unknown;
}

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

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function requestedAddress(text: unknown): IpAddress {
  if (typeof text !== 'string') throw hostLocalError(`invalid IP address: ${JSON.stringify(text)}`);
  try {
    const parsed = parseIpOrCidr(text);
    // Go's ip.IP keeps the address of a CIDR; the prefix does not matter to host-local.
    return parsed instanceof Cidr ? parsed.address.unmap() : parsed;
  } catch {
    throw hostLocalError(`invalid IP address: ${text}`);
  }
}

function stringList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function rangeSetConfigs(value: unknown, where: string): RangeConfig[][] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw hostLocalError(`${where} must be a list of range sets`);
  return value.map((set) => {
    if (!Array.isArray(set)) throw hostLocalError(`${where} must be a list of range sets`);
    return set.map((range) => record(range) ?? {});
  });
}

/**
 * Read host-local's configuration with upstream's rules and error texts: requested addresses
 * merged, the legacy range and `runtimeConfig.ipRanges` prepended, every range set
 * canonicalised (`invalid range set N: ...`), no two sets overlapping (`range set N overlaps
 * with M`), and at most one set per family before spec 0.3.0.
 *
 * @throws CniError code 999 with upstream's text.
 */
export function loadHostLocalConfig(input: HostLocalConfigInput): HostLocalConfig {
  const { conf } = input;
  const ipam = record(conf.ipam);
  if (ipam === undefined) throw hostLocalError("IPAM config missing 'ipam' key");
  const requested: IpAddress[] = [];
  if (input.argsIp !== undefined && input.argsIp !== '') requested.push(requestedAddress(input.argsIp));
  const args = record(record(conf.args)?.cni);
  for (const ip of stringList(args?.ips)) requested.push(requestedAddress(ip));
  const runtimeConfig = record(conf.runtimeConfig);
  for (const ip of stringList(runtimeConfig?.ips)) requested.push(requestedAddress(ip));

  const configs = rangeSetConfigs(ipam.ranges, 'ranges');
  if (typeof ipam.subnet === 'string' && ipam.subnet !== '') {
    configs.unshift([{ subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway }]);
  }
  configs.unshift(...rangeSetConfigs(runtimeConfig?.ipRanges, 'runtimeConfig.ipRanges'));
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
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : '';
  if ((v4 > 1 || v6 > 1) && !atLeast(cniVersion, '0.3.0')) {
    throw hostLocalError(`CNI version ${cniVersion} does not support more than 1 address per family`);
  }
  for (let i = 0; i < ranges.length - 1; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (rangeSetsOverlap(ranges[i]!, ranges[j]!)) throw hostLocalError(`range set ${i} overlaps with ${j}`);
    }
  }
  const routes = Array.isArray(ipam.routes) ? (ipam.routes as RouteConfig[]) : [];
  return {
    name: typeof conf.name === 'string' ? conf.name : '',
    cniVersion,
    ranges,
    routes,
    dataDir: typeof ipam.dataDir === 'string' && ipam.dataDir !== '' ? ipam.dataDir : DEFAULT_DATA_DIR,
    resolvConf: typeof ipam.resolvConf === 'string' ? ipam.resolvConf : '',
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
