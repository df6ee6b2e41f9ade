// SPDX-License-Identifier: Apache-2.0
import { tryParseIp } from '@cni/ip';
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, toCurrentResult, type NetConf, type ResultV100 } from '@cni/spec';

/** sbr's configuration. */
export interface SbrNetConf extends NetConf {
  /** A fixed table: only the source rules are added, nothing is moved. Undefined: first free from 100 per address. */
  table: number | undefined;
  /** Static gateways for the default route of each table: at most one IPv4 and one IPv6 (upstream HEAD). */
  gateways: { v4: string | undefined; v6: string | undefined };
  /** Keep link-scope subnet routes in main with a `src` hint instead of moving them (upstream HEAD). */
  addSourceHints: boolean;
  /** The previous result in the 1.x layout, when there is one. */
  parsedPrevResult: ResultV100 | undefined;
}

/** The first table the default mode considers, as upstream. */
export const FIRST_TABLE = 100;

/**
 * Read sbr's keys: `table` an integer 1..2³²−1 other than the kernel's own tables (253 default,
 * 254 main, 255 local), `gateways` at most one address per family, `addSourceHints` a boolean.
 * Each wrong value is code 7 naming the key and the value, before anything is changed.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'prevResult'>): SbrNetConf {
  const conf = request.conf;
  const table = conf['table'];
  if (table !== undefined && table !== null) {
    if (typeof table !== 'number' || !Number.isInteger(table) || table < 1 || table > 0xffffffff || table === 253 || table === 254 || table === 255) {
      throw invalidConfigError('table', table, 'an integer in [1, 4294967295] other than 253, 254 and 255');
    }
  }
  const gateways: SbrNetConf['gateways'] = { v4: undefined, v6: undefined };
  const list = conf['gateways'];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) throw invalidConfigError('gateways', list, 'a list of at most one IPv4 and one IPv6 address');
    if (list.length > 2) throw invalidConfigError('gateways', list, 'a list of at most 2 entries (one IPv4, one IPv6)');
    for (const entry of list as unknown[]) {
      const ip = typeof entry === 'string' ? tryParseIp(entry) : undefined;
      if (!ip) throw invalidConfigError('gateways[]', entry, 'an IP address');
      const key = ip.family === 4 ? 'v4' : 'v6';
      if (gateways[key] !== undefined) throw invalidConfigError('gateways', list, `at most one IPv${ip.family} address`);
      gateways[key] = ip.toString();
    }
  }
  const hints = conf['addSourceHints'];
  if (hints !== undefined && hints !== null && typeof hints !== 'boolean') throw invalidConfigError('addSourceHints', hints, 'a boolean');
  return {
    ...conf,
    table: (table as number | null | undefined) ?? undefined,
    gateways,
    addSourceHints: hints === true,
    parsedPrevResult: request.prevResult ? toCurrentResult(request.prevResult) : undefined,
  };
}

/** The result a chained-only verb needs. */
export function requirePrevResult(conf: SbrNetConf): ResultV100 {
  if (!conf.parsedPrevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'this plugin must be called as chained plugin');
  return conf.parsedPrevResult;
}

/** One address sbr routes by: the address with its prefix, and the gateway the result gives it. */
export interface SourceAddress {
  /** `10.1.0.5/24` */
  cidr: string;
  /** `10.1.0.5` */
  ip: string;
  family: 4 | 6;
  gateway: string | undefined;
}

/**
 * The result's addresses on `ifName`, as upstream's `getIPCfgs`: an address without an interface
 * index counts, one whose index names another interface does not. None at all is an error.
 */
export function sourceAddresses(result: ResultV100, ifName: string): SourceAddress[] {
  const ips = result.ips ?? [];
  if (ips.length === 0) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `no IP addresses supplied on interface "${ifName}"`);
  const interfaces = result.interfaces ?? [];
  return ips
    .filter((ip) => ip.interface === undefined || ip.interface < 0 || ip.interface >= interfaces.length || interfaces[ip.interface]!.name === ifName)
    .map((ip) => {
      const [address = ''] = ip.address.split('/');
      const parsed = tryParseIp(address);
      if (!parsed) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid address "${ip.address}" in prevResult`);
      return { cidr: ip.address, ip: parsed.toString(), family: parsed.family, gateway: ip.gateway };
    });
}
