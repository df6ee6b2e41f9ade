// SPDX-License-Identifier: Apache-2.0
import type { Dns } from '../config.ts';
import { CNI_ERROR_CODES, CniError } from '../errors.ts';
import { ipVersionOf } from '../internal/ip.ts';
import { isObject, jsonType } from '../internal/json.ts';
import {
  absent,
  cidr,
  type Fail,
  failWith,
  optArray,
  optInt,
  optIp,
  optObject,
  optString,
  optStringArray,
  own,
} from '../internal/read.ts';
import type {
  InterfaceV040,
  InterfaceV100,
  IpConfigV020,
  IpConfigV040,
  IpConfigV100,
  Result,
  ResultV020,
  ResultV040,
  ResultV100,
  Route,
  RouteV020,
} from './types.ts';

/** The three result layouts upstream has types for (`pkg/types/{020,040,100}`). */
export type ResultFamily = '020' | '040' | '100';

const familyOfVersion: Record<string, ResultFamily> = {
  '0.1.0': '020',
  '0.2.0': '020',
  '0.3.0': '040',
  '0.3.1': '040',
  '0.4.0': '040',
  '1.0.0': '100',
  '1.1.0': '100',
};

const familyVersions: Record<ResultFamily, string[]> = {
  '020': ['0.1.0', '0.2.0'],
  '040': ['0.3.0', '0.3.1', '0.4.0'],
  '100': ['1.0.0', '1.1.0'],
};

/** The result layout of a spec version, or undefined for a version that has none. */
export function resultFamily(version: string): ResultFamily | undefined {
  return Object.hasOwn(familyOfVersion, version) ? familyOfVersion[version] : undefined;
}

const decodeFail = failWith(CNI_ERROR_CODES.DECODING_FAILURE);

/**
 * Validate a decoded result and return it in canonical form: only the keys its version defines,
 * in upstream's field order, with what Go's `omitempty` leaves out already left out (empty
 * strings and lists, zero MTUs, an empty `dns`). Unknown keys are dropped, as Go's decoder
 * drops them.
 *
 * The version is the result's own `cniVersion` when it has one. With `version` given, that
 * version's layout must match (upstream picks the result type from the config version and
 * rejects a result of another layout) and a result without `cniVersion` takes `version`, as
 * upstream's `ParsePrevResult` injects it. Without either, a result is 0.1.0 as the spec says.
 *
 * libcni reads a plugin's output more loosely: any version is accepted and converted afterwards,
 * only a missing `cniVersion` is taken from the config (`fixupResultVersion`). Do that with
 * `parseResult(value.cniVersion ? value : { ...value, cniVersion: confVersion })`.
 *
 * Throws a CniError: code 1 for an unknown or mismatched version, code 6 for a bad shape,
 * naming the key and the value.
 *
 * @example
 * ```ts
 * const result = parseResult(JSON.parse(stdout), '1.1.0');
 * ```
 */
export function parseResult(value: unknown, version?: string): Result {
  if (!isObject(value)) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `invalid result: expected a JSON object, got ${jsonType(value)}`);
  }
  const ownVersion = optString(own(value, 'cniVersion'), 'cniVersion', decodeFail);
  let resultVersion: string;
  if (version === undefined) {
    resultVersion = ownVersion || '0.1.0';
  } else {
    const expected = version === '' ? '0.1.0' : version;
    const family = resultFamily(expected);
    if (!family) {
      throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, `unsupported CNI result version "${version}"`);
    }
    resultVersion = ownVersion || expected;
    if (resultFamily(resultVersion) !== family) {
      throw new CniError(
        CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION,
        `result type supports [${familyVersions[family].join(' ')}] but unmarshalled CNIVersion is "${resultVersion}"`,
      );
    }
  }
  return readResult(value, resultVersion, decodeFail);
}

/**
 * The canonical copy of a result object of `version` (see {@link parseResult}); throws a
 * CniError through `fail` on a bad shape, code 1 for a version without a result layout.
 */
export function readResult(value: Record<string, unknown>, version: string, fail: Fail): Result {
  switch (resultFamily(version)) {
    case '020':
      return readResult020(value, version as ResultV020['cniVersion'], fail);
    case '040':
      return readResult040(value, version as ResultV040['cniVersion'], fail);
    case '100':
      return readResult100(value, version as ResultV100['cniVersion'], fail);
    default:
      throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, `unsupported CNI result version "${version}"`);
  }
}

/** Validate a `dns` object; returns its canonical copy, or undefined when it is empty. */
export function readDns(value: unknown, path: string, fail: Fail): Dns | undefined {
  const object = optObject(value, path, fail);
  if (!object) return undefined;
  const dns: Dns = {};
  const nameservers = optStringArray(own(object, 'nameservers'), `${path}.nameservers`, fail);
  const domain = optString(own(object, 'domain'), `${path}.domain`, fail);
  const search = optStringArray(own(object, 'search'), `${path}.search`, fail);
  const options = optStringArray(own(object, 'options'), `${path}.options`, fail);
  if (nameservers?.length) dns.nameservers = nameservers;
  if (domain) dns.domain = domain;
  if (search?.length) dns.search = search;
  if (options?.length) dns.options = options;
  return Object.keys(dns).length === 0 ? undefined : dns;
}

function readList<T>(value: unknown, path: string, fail: Fail, item: (v: unknown, p: string) => T): T[] | undefined {
  const array = optArray(value, path, fail);
  if (!array?.length) return undefined;
  return array.map((v, i) => item(v, `${path}[${i}]`));
}

function item(value: unknown, path: string, fail: Fail): Record<string, unknown> {
  // A null entry of a list of pointers decodes to nil in Go and then crashes the converters;
  // refusing it here is the useful reading.
  if (!isObject(value)) fail(path, value, 'an object');
  return value;
}

/** A route of 0.3.0 and later: 1.1.0 fields included, zeros left out as Go's omitempty does. */
export function readRoute(value: unknown, path: string, fail: Fail): Route {
  const object = item(value, path, fail);
  const route: Route = { dst: cidr(own(object, 'dst'), `${path}.dst`, fail) };
  const gw = optIp(own(object, 'gw'), `${path}.gw`, fail);
  if (gw !== undefined) route.gw = gw;
  for (const key of ['mtu', 'advmss', 'priority'] as const) {
    const n = optInt(own(object, key), `${path}.${key}`, fail);
    if (n) route[key] = n;
  }
  // table and scope are pointers upstream: 0 is a value (scope 0 is "universe").
  for (const key of ['table', 'scope'] as const) {
    const n = optInt(own(object, key), `${path}.${key}`, fail);
    if (n !== undefined) route[key] = n;
  }
  return route;
}

function readRoute020(value: unknown, path: string, fail: Fail): RouteV020 {
  const route = readRoute(value, path, fail);
  return route.gw === undefined ? { dst: route.dst } : { dst: route.dst, gw: route.gw };
}

function readIpConfig020(value: unknown, path: string, fail: Fail): IpConfigV020 | undefined {
  const object = optObject(value, path, fail);
  if (!object) return undefined;
  const config: IpConfigV020 = { ip: cidr(own(object, 'ip'), `${path}.ip`, fail) };
  const gateway = optIp(own(object, 'gateway'), `${path}.gateway`, fail);
  if (gateway !== undefined) config.gateway = gateway;
  const routes = readList(own(object, 'routes'), `${path}.routes`, fail, (v, p) => readRoute020(v, p, fail));
  if (routes) config.routes = routes;
  return config;
}

function readResult020(value: Record<string, unknown>, version: ResultV020['cniVersion'], fail: Fail): ResultV020 {
  const result: ResultV020 = { cniVersion: version };
  const ip4 = readIpConfig020(own(value, 'ip4'), 'ip4', fail);
  const ip6 = readIpConfig020(own(value, 'ip6'), 'ip6', fail);
  const dns = readDns(own(value, 'dns'), 'dns', fail);
  if (ip4) result.ip4 = ip4;
  if (ip6) result.ip6 = ip6;
  if (dns) result.dns = dns;
  return result;
}

function readInterface(value: unknown, path: string, fail: Fail, v100: boolean): InterfaceV100 {
  const object = item(value, path, fail);
  const result: InterfaceV100 = { name: optString(own(object, 'name'), `${path}.name`, fail) ?? '' };
  const mac = optString(own(object, 'mac'), `${path}.mac`, fail);
  if (mac) result.mac = mac;
  if (v100) {
    const mtu = optInt(own(object, 'mtu'), `${path}.mtu`, fail);
    if (mtu) result.mtu = mtu;
  }
  const sandbox = optString(own(object, 'sandbox'), `${path}.sandbox`, fail);
  if (sandbox) result.sandbox = sandbox;
  if (v100) {
    const socketPath = optString(own(object, 'socketPath'), `${path}.socketPath`, fail);
    const pciID = optString(own(object, 'pciID'), `${path}.pciID`, fail);
    if (socketPath) result.socketPath = socketPath;
    if (pciID) result.pciID = pciID;
  }
  return result;
}

function readIpConfig(value: unknown, path: string, fail: Fail, v040: boolean): IpConfigV040 | IpConfigV100 {
  const object = item(value, path, fail);
  const address = cidr(own(object, 'address'), `${path}.address`, fail);
  const index = optInt(own(object, 'interface'), `${path}.interface`, fail, 0);
  const gateway = optIp(own(object, 'gateway'), `${path}.gateway`, fail);
  const rest: IpConfigV100 = index === undefined ? { address } : { interface: index, address };
  if (gateway !== undefined) rest.gateway = gateway;
  if (!v040) return rest;
  const version = own(object, 'version');
  if (!absent(version) && version !== '4' && version !== '6') fail(`${path}.version`, version, '"4" or "6"');
  // A missing version is computed from the address, as the 1.0.0 -> 0.4.0 converter does.
  return { version: (version as '4' | '6' | null | undefined) ?? ipVersionOf(address), ...rest };
}

function readResult040(value: Record<string, unknown>, version: ResultV040['cniVersion'], fail: Fail): ResultV040 {
  const result: ResultV040 = { cniVersion: version };
  const interfaces = readList(own(value, 'interfaces'), 'interfaces', fail, (v, p) => readInterface(v, p, fail, false));
  const ips = readList(own(value, 'ips'), 'ips', fail, (v, p) => readIpConfig(v, p, fail, true) as IpConfigV040);
  const routes = readList(own(value, 'routes'), 'routes', fail, (v, p) => readRoute(v, p, fail));
  const dns = readDns(own(value, 'dns'), 'dns', fail);
  if (interfaces) result.interfaces = interfaces as InterfaceV040[];
  if (ips) result.ips = ips;
  if (routes) result.routes = routes;
  if (dns) result.dns = dns;
  return result;
}

function readResult100(value: Record<string, unknown>, version: ResultV100['cniVersion'], fail: Fail): ResultV100 {
  const result: ResultV100 = { cniVersion: version };
  const interfaces = readList(own(value, 'interfaces'), 'interfaces', fail, (v, p) => readInterface(v, p, fail, true));
  const ips = readList(own(value, 'ips'), 'ips', fail, (v, p) => readIpConfig(v, p, fail, false));
  const routes = readList(own(value, 'routes'), 'routes', fail, (v, p) => readRoute(v, p, fail));
  const dns = readDns(own(value, 'dns'), 'dns', fail);
  if (interfaces) result.interfaces = interfaces;
  if (ips) result.ips = ips;
  if (routes) result.routes = routes;
  if (dns) result.dns = dns;
  return result;
}
