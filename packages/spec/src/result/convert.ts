// SPDX-License-Identifier: Apache-2.0
// Upstream's conversion graph (cni pkg/types/{020,040,100}): 02x <-> 04x <-> 100, where 02x <-> 100
// goes through 0.4.0. Each step below mirrors one upstream converter.
import { CNI_ERROR_CODES, CniError } from '../errors.ts';
import { ipVersionOf } from '../internal/ip.ts';
import { failWith } from '../internal/read.ts';
import { readResult, resultFamily } from './parse.ts';
import type {
  InterfaceV040,
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

// A result handed to the converter by code (not parsed) that breaks its own type is a bug of the
// caller; it is still reported as a CniError so that skel prints it in the spec's format.
const internalFail = failWith(CNI_ERROR_CODES.INTERNAL);

/**
 * The version of a result. A result built without `cniVersion` has, as upstream's
 * `GetAsVersion` assumes, the newest version of its layout: the layout is read from its keys.
 */
export function versionOf(result: Result): string {
  if (typeof result !== 'object' || result === null) return '';
  const version = (result as { cniVersion?: unknown }).cniVersion;
  if (typeof version === 'string' && version !== '') return version;
  if ('ip4' in result || 'ip6' in result) return '0.2.0';
  if ((result as ResultV040).ips?.some((ip) => 'version' in ip)) return '0.4.0';
  return '1.1.0';
}

function noConverter(from: string, to: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION,
    `no converter for CNI result version ${from} to ${to}`,
  );
}

/**
 * Convert a result to `toVersion` by upstream's rules. The input is never changed; the output is
 * a fresh object in canonical form (see {@link parseResult}).
 *
 * - 0.4.0 and older to 0.1.0/0.2.0 keep only the first IPv4 and the first IPv6 address and give
 *   each family its routes (a family without an address loses its routes); with no address at
 *   all the conversion fails: `cannot convert: no valid IP addresses` (code 1).
 * - 1.x to 0.3.x/0.4.0 computes `ips[].version` from the address and drops the 1.1.0 interface
 *   fields (mtu, socketPath, pciID); the 1.1.0 route fields survive, as upstream's shared
 *   `types.Route` keeps them.
 * - An empty `toVersion` means 0.1.0; a version with no result layout is code 1.
 *
 * @example
 * ```ts
 * const printed = convertResult(result, conf.cniVersion);
 * ```
 */
export function convertResult(result: Result, toVersion: string): Result {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new CniError(CNI_ERROR_CODES.INTERNAL, `invalid result ${String(result)}, must be an object`);
  }
  const to = toVersion === '' ? '0.1.0' : toVersion;
  const from = versionOf(result);
  const fromFamily = resultFamily(from);
  const toFamily = resultFamily(to);
  if (!fromFamily || !toFamily) throw noConverter(from, to);
  // Reading validates and copies, so that no step below shares an object with the caller.
  const source = readResult(result as unknown as Record<string, unknown>, from, internalFail);

  if (fromFamily === toFamily) return { ...source, cniVersion: to } as Result;
  switch (`${fromFamily}>${toFamily}`) {
    case '020>040':
      return from02xTo04x(source as ResultV020, to as ResultV040['cniVersion']);
    case '020>100':
      return from04xTo100(from02xTo04x(source as ResultV020, '0.4.0'), to as ResultV100['cniVersion']);
    case '040>020':
      return from04xTo02x(source as ResultV040, to as ResultV020['cniVersion']);
    case '040>100':
      return from04xTo100(source as ResultV040, to as ResultV100['cniVersion']);
    case '100>040':
      return from100To04x(source as ResultV100, to as ResultV040['cniVersion']);
    case '100>020':
      return from04xTo02x(from100To04x(source as ResultV100, '0.4.0'), to as ResultV020['cniVersion']);
    default:
      throw noConverter(from, to);
  }
}

/** Convert any result to the newest version ({@link ResultV100}, cniVersion 1.1.0). */
export function toCurrentResult(result: Result): ResultV100 {
  return convertResult(result, '1.1.0') as ResultV100;
}

/**
 * Every address of a result, whatever its version, in the 1.x form. A 0.2.0 result lists its
 * `ip4` then its `ip6`, as upstream's up-conversion orders them.
 */
export function resultIps(result: Result): IpConfigV100[] {
  return toCurrentResult(result).ips ?? [];
}

/** `target` with the defined entries of `values` added, in their order (Go's omitempty). */
function withOptional<T extends object>(target: T, values: { [K in keyof T]?: T[K] | undefined }): T {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

// types040.convertFrom02x: ip4 then ip6, each family's routes in that order, no interfaces.
function from02xTo04x(from: ResultV020, to: ResultV040['cniVersion']): ResultV040 {
  const ips: IpConfigV040[] = [];
  const routes: Route[] = [];
  for (const [config, version] of [
    [from.ip4, '4'],
    [from.ip6, '6'],
  ] as const) {
    if (!config) continue;
    ips.push(withOptional<IpConfigV040>({ version, address: config.ip }, { gateway: config.gateway }));
    for (const route of config.routes ?? []) routes.push({ ...route });
  }
  return withOptional<ResultV040>(
    { cniVersion: to },
    { ips: ips.length ? ips : undefined, routes: routes.length ? routes : undefined, dns: from.dns },
  );
}

// types040.convertTo02x: the first address of each family, routes split by family of dst.
function from04xTo02x(from: ResultV040, to: ResultV020['cniVersion']): ResultV020 {
  let ip4: IpConfigV020 | undefined;
  let ip6: IpConfigV020 | undefined;
  for (const ip of from.ips ?? []) {
    const config = withOptional<IpConfigV020>({ ip: ip.address }, { gateway: ip.gateway });
    if (ip.version === '4' && !ip4) ip4 = config;
    else if (ip.version === '6' && !ip6) ip6 = config;
    if (ip4 && ip6) break;
  }
  for (const route of from.routes ?? []) {
    const target = ipVersionOf(route.dst) === '4' ? ip4 : ip6;
    if (!target) continue;
    (target.routes ??= []).push(withOptional<RouteV020>({ dst: route.dst }, { gw: route.gw }));
  }
  // 0.2.0 and earlier require at least one IP address in the result.
  if (!ip4 && !ip6) {
    throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, 'cannot convert: no valid IP addresses', {
      details: `a result of version ${to} needs an IP address; this one has none`,
    });
  }
  return withOptional<ResultV020>({ cniVersion: to }, { ip4, ip6, dns: from.dns });
}

// types100.convertFrom04x: drop ips[].version.
function from04xTo100(from: ResultV040, to: ResultV100['cniVersion']): ResultV100 {
  const ips = from.ips?.map(({ version: _version, ...rest }) => rest);
  return withOptional<ResultV100>(
    { cniVersion: to },
    { interfaces: from.interfaces, ips, routes: from.routes, dns: from.dns },
  );
}

// types100.convertTo04x: compute ips[].version, keep only name/mac/sandbox of interfaces.
function from100To04x(from: ResultV100, to: ResultV040['cniVersion']): ResultV040 {
  const interfaces = from.interfaces?.map(
    (intf): InterfaceV040 => withOptional<InterfaceV040>({ name: intf.name }, { mac: intf.mac, sandbox: intf.sandbox }),
  );
  const ips = from.ips?.map((ip): IpConfigV040 => ({ version: ipVersionOf(ip.address), ...ip }));
  return withOptional<ResultV040>(
    { cniVersion: to },
    { interfaces, ips, routes: from.routes, dns: from.dns },
  );
}
