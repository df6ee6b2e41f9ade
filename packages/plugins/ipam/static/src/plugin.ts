// SPDX-License-Identifier: Apache-2.0
import { type Cidr, type IpAddress, tryParseCidr, tryParseIp } from '@cni/ip';
import { type AddRequest, type CheckRequest, definePlugin } from '@cni/skel';
import { readDns, readRequestedIps, readRoutes } from '@cni/ipam';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, CniError, compareVersions, decodeConfig, type Dns, type ResultV100, type Route, toCurrentResult } from '@cni/spec';

/** One address of static's configuration: the address with its prefix, and its gateway if any. */
export interface StaticAddress {
  /** The address, host bits kept (`10.1.2.3/24`). */
  readonly address: Cidr;
  /** The gateway, when configured or given by CNI_ARGS `GATEWAY`. */
  readonly gateway: IpAddress | undefined;
}

/** static's configuration, read as upstream's `LoadIPAMConfig` reads it. */
export interface StaticConfig {
  readonly name: string;
  readonly cniVersion: string;
  readonly addresses: readonly StaticAddress[];
  readonly routes: readonly Route[];
  readonly dns: Dns;
}

/** The inputs of {@link loadStaticConfig}: the configuration and CNI_ARGS `IP` and `GATEWAY`. */
export interface StaticConfigInput {
  conf: Record<string, unknown>;
  argsIp?: string | undefined;
  argsGateway?: string | undefined;
}

function staticError(message: string): CniError {
  // Upstream returns plain errors, which its skel reports as code 999.
  return new CniError(CNI_ERROR_CODES.INTERNAL, message);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function cidrOf(text: string, message: (text: string) => string): Cidr {
  const cidr = tryParseCidr(text.trim() === text ? text : '');
  if (cidr === undefined) throw staticError(message(text));
  return unmapCidr(cidr);
}

function unmapCidr(cidr: Cidr): Cidr {
  if (!cidr.address.isIpv4Mapped) return cidr;
  return tryParseCidr(`${cidr.address.unmap().toString()}/${Math.max(0, cidr.prefix - 96)}`) ?? cidr;
}

/** Every key static knows, type-checked in one pass; addresses are parsed after, with upstream's texts. */
interface RawStaticConfig {
  name: string;
  cniVersion: string;
  addresses: { address: string; gateway: string | undefined }[];
  routes: Route[];
  dns: Dns;
  argsIps: string[];
  runtimeIps: string[];
}

function readStaticConfig(conf: Record<string, unknown>): RawStaticConfig {
  return decodeConfig(conf, (r) => {
    const ipam = r.object('ipam');
    return {
      name: r.optString('name') ?? '',
      cniVersion: r.optString('cniVersion') ?? '',
      addresses:
        ipam.optArray('addresses', (element) => {
          if (element.absent) return element.fail('an object with an "address" CIDR');
          const entry = element.optObject();
          if (entry === undefined) return undefined;
          return { address: entry.string('address'), gateway: entry.optString('gateway') };
        }) ?? [],
      routes: readRoutes(ipam.key('routes')),
      dns: readDns(ipam.key('dns')),
      argsIps: readRequestedIps(r.optObject('args')?.optObject('cni')?.key('ips')),
      runtimeIps: readRequestedIps(r.optObject('runtimeConfig')?.key('ips')),
    };
  });
}

/**
 * Read static's configuration with upstream's rules: `ipam.addresses`, then CNI_ARGS `IP`
 * (comma-separated CIDRs, appended) with `GATEWAY` attached to the addresses holding it; then
 * `args.cni.ips` replaces the list, and `runtimeConfig.ips` replaces it again. Before spec
 * 0.3.0 a configuration may give at most one address per family.
 *
 * Every known key is type-checked first: `addresses` or `routes` of the wrong type, an address
 * entry without `address`, a route whose `dst` is not a CIDR, is code 7 naming the key's path.
 *
 * @throws CniError code 7 for a key of the wrong type, code 999 with upstream's texts otherwise.
 */
export function loadStaticConfig(input: StaticConfigInput): StaticConfig {
  const { conf } = input;
  if (record(conf.ipam) === undefined) throw staticError("IPAM config missing 'ipam' key");
  const raw = readStaticConfig(conf);
  let addresses: { address: Cidr; gateway: IpAddress | undefined }[] = [];
  for (const item of raw.addresses) {
    let gateway: IpAddress | undefined;
    if (item.gateway !== undefined && item.gateway !== '') {
      gateway = tryParseIp(item.gateway);
      if (gateway === undefined) throw staticError(`invalid IP address: ${item.gateway}`);
    }
    const address = cidrOf(item.address, (text) => `the 'address' field is expected to be in CIDR notation, got: '${text}'`);
    addresses.push({ address, gateway });
  }
  if (input.argsIp !== undefined && input.argsIp !== '') {
    for (const item of input.argsIp.split(',')) {
      const text = item.trim();
      addresses.push({ address: cidrOf(text, (t) => `the 'ip' field is expected to be in CIDR notation, got: '${t}'`), gateway: undefined });
    }
  }
  if (input.argsGateway !== undefined && input.argsGateway !== '') {
    for (const item of input.argsGateway.split(',')) {
      const gateway = tryParseIp(item.trim());
      if (gateway === undefined) throw staticError(`invalid gateway address: ${item}`);
      for (const entry of addresses) if (entry.address.contains(gateway)) entry.gateway = gateway;
    }
  }
  const ips = (list: readonly string[]): StaticAddress[] =>
    list.map((text) => ({
      address: cidrOf(text, (t) => `an entry in the 'ips' field is NOT in CIDR notation, got: '${t}'`),
      gateway: undefined,
    }));
  if (raw.argsIps.length > 0) addresses = ips(raw.argsIps);
  if (raw.runtimeIps.length > 0) addresses = ips(raw.runtimeIps);

  const v4 = addresses.filter((a) => a.address.family === 4).length;
  const v6 = addresses.length - v4;
  const cniVersion = raw.cniVersion;
  if ((v4 > 1 || v6 > 1) && !atLeast(cniVersion, '0.3.0')) {
    throw staticError(`CNI version ${cniVersion} does not support more than 1 address per family`);
  }
  return { name: raw.name, cniVersion, addresses, routes: raw.routes, dns: raw.dns };
}

function atLeast(version: string, floor: string): boolean {
  try {
    return compareVersions(version === '' ? '0.1.0' : version, floor) >= 0;
  } catch {
    return false;
  }
}

const argParsers = { IP: (value: string): string => value, GATEWAY: (value: string): string => value };

function configOf(request: AddRequest | CheckRequest): StaticConfig {
  const args = request.loadArgs(argParsers);
  return loadStaticConfig({ conf: request.conf as unknown as Record<string, unknown>, argsIp: args.IP, argsGateway: args.GATEWAY });
}

function isEmptyDns(dns: Dns): boolean {
  return !dns.nameservers?.length && !dns.domain && !dns.search?.length && !dns.options?.length;
}

function add(request: AddRequest): ResultV100 {
  const config = configOf(request);
  const result: ResultV100 = { cniVersion: '1.1.0' };
  if (config.addresses.length > 0) {
    result.ips = config.addresses.map(({ address, gateway }) =>
      gateway === undefined ? { address: address.toString() } : { address: address.toString(), gateway: gateway.toString() },
    );
  }
  if (config.routes.length > 0) result.routes = config.routes.map((route) => ({ ...route }));
  if (!isEmptyDns(config.dns)) result.dns = config.dns;
  return result;
}

function check(request: CheckRequest): void {
  const config = configOf(request);
  const previous = request.prevResult;
  if (previous === undefined) throw staticError('Required prevResult missing');
  const ips = toCurrentResult(previous).ips ?? [];
  for (const { address, gateway } of config.addresses) {
    const match = ips.find((ip) => tryParseCidr(ip.address)?.address.unmap().equals(address.address.unmap()));
    if (match === undefined || gateway === undefined) continue;
    const got = match.gateway === undefined ? undefined : tryParseIp(match.gateway);
    if (got === undefined || !got.equals(gateway)) {
      throw staticError(`static: Failed to match addr ${address.address.toString()} on interface ${request.ifName}`);
    }
  }
}

/**
 * The static IPAM plugin: returns the configured addresses (with gateways), routes and DNS,
 * as upstream's. DEL does nothing; CHECK fails only when an address of the configuration is
 * in prevResult with another gateway.
 *
 * @example
 * ```ts
 * import { runPlugin } from '@cni/skel';
 * import { staticIpam } from '@cni/ipam-static';
 * process.exitCode = await runPlugin(staticIpam);
 * ```
 */
export const staticIpam = definePlugin({
  name: 'static',
  versions: ALL_SPEC_VERSIONS,
  add,
  del: () => {},
  check,
});
