// SPDX-License-Identifier: Apache-2.0
import { type Cidr, type IpAddress, tryParseCidr, tryParseIp } from '@cni/ip';
import { type AddRequest, type CheckRequest, definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, CniError, compareVersions, type Dns, type ResultV100, type Route, toCurrentResult } from '@cni/spec';

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

function cidrOf(text: unknown, message: (text: string) => string): Cidr {
  const value = typeof text === 'string' ? text : String(text);
  const cidr = typeof text === 'string' ? tryParseCidr(text.trim() === text ? text : '') : undefined;
  if (cidr === undefined) throw staticError(message(value));
  return unmapCidr(cidr);
}

function unmapCidr(cidr: Cidr): Cidr {
  if (!cidr.address.isIpv4Mapped) return cidr;
  return tryParseCidr(`${cidr.address.unmap().toString()}/${Math.max(0, cidr.prefix - 96)}`) ?? cidr;
}

/**
 * Read static's configuration with upstream's rules: `ipam.addresses`, then CNI_ARGS `IP`
 * (comma-separated CIDRs, appended) with `GATEWAY` attached to the addresses holding it; then
 * `args.cni.ips` replaces the list, and `runtimeConfig.ips` replaces it again. Before spec
 * 0.3.0 a configuration may give at most one address per family.
 *
 * @throws CniError code 999 with upstream's texts.
 */
export function loadStaticConfig(input: StaticConfigInput): StaticConfig {
  const { conf } = input;
  const ipam = record(conf.ipam);
  if (ipam === undefined) throw staticError("IPAM config missing 'ipam' key");
  let addresses: { address: Cidr; gateway: IpAddress | undefined }[] = [];
  const configured = Array.isArray(ipam.addresses) ? ipam.addresses : [];
  for (const entry of configured) {
    const item = record(entry) ?? {};
    const gatewayText = item.gateway;
    let gateway: IpAddress | undefined;
    if (gatewayText !== undefined && gatewayText !== null && gatewayText !== '') {
      gateway = typeof gatewayText === 'string' ? tryParseIp(gatewayText) : undefined;
      if (gateway === undefined) throw staticError(`invalid IP address: ${String(gatewayText)}`);
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
  const ips = (list: unknown): StaticAddress[] =>
    (list as unknown[]).map((text) => ({
      address: cidrOf(text, (t) => `an entry in the 'ips' field is NOT in CIDR notation, got: '${t}'`),
      gateway: undefined,
    }));
  const argsIps = record(record(conf.args)?.cni)?.ips;
  if (Array.isArray(argsIps) && argsIps.length > 0) addresses = ips(argsIps);
  const runtimeIps = record(conf.runtimeConfig)?.ips;
  if (Array.isArray(runtimeIps) && runtimeIps.length > 0) addresses = ips(runtimeIps);

  const v4 = addresses.filter((a) => a.address.family === 4).length;
  const v6 = addresses.length - v4;
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : '';
  if ((v4 > 1 || v6 > 1) && !atLeast(cniVersion, '0.3.0')) {
    throw staticError(`CNI version ${cniVersion} does not support more than 1 address per family`);
  }
  return {
    name: typeof conf.name === 'string' ? conf.name : '',
    cniVersion,
    addresses,
    routes: Array.isArray(ipam.routes) ? (ipam.routes as Route[]) : [],
    dns: (record(ipam.dns) ?? {}) as Dns,
  };
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
