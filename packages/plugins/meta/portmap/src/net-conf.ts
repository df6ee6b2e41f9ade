// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, toCurrentResult, type NetConf, type Result } from '@cni/spec';

/** The backends `backend` names. */
export const PORTMAP_BACKENDS = ['iptables', 'nftables'] as const;

/** A portmap backend. */
export type PortmapBackend = (typeof PORTMAP_BACKENDS)[number];

/** The protocols a mapping may name (upstream passes any string to iptables; these are the ones that work). */
export const PORTMAP_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

/** Upstream's default mark bit: `1 << 13`, 0x2000. */
export const DEFAULT_MARK_MASQ_BIT = 13;

/** One `runtimeConfig.portMappings` entry after validation. */
export interface PortMapEntry {
  hostPort: number;
  containerPort: number;
  /** Lower case. */
  protocol: (typeof PORTMAP_PROTOCOLS)[number];
  /** The host address to match; `''` (or an unspecified address) matches every local address. */
  hostIP: string;
}

/** A container address as prevResult gives it: the address and its prefix length. */
export interface ContainerAddress {
  /** The address alone, e.g. `10.88.0.2` or `fd00::2`. */
  ip: string;
  /** `ip/prefix` as prevResult wrote it, e.g. `10.88.0.2/16`. */
  cidr: string;
  family: 4 | 6;
}

/** portmap's configuration with defaults applied. */
export interface PortmapNetConf extends NetConf {
  /** The backend asked for; undefined lets the plugin detect one (iptables unless only nftables works). */
  backend: PortmapBackend | undefined;
  /** Masquerade hairpin and localhost traffic. Default true. */
  snat: boolean;
  /** Masquerade forwarded traffic from any source, not only from the container's subnet. Default false. */
  masqAll: boolean;
  /** The mark bit of the iptables backend's masquerade mark. Default 13. */
  markMasqBit: number;
  /** An iptables chain that marks packets for masquerading instead of our own SETMARK and MASQ chains. */
  externalSetMarkChain: string | undefined;
  /** Extra match tokens on the entry rule (iptables) or on each DNAT rule (nftables), IPv4. */
  conditionsV4: string[];
  /** The same for IPv6. */
  conditionsV6: string[];
  /** `runtimeConfig.portMappings`. */
  portMappings: PortMapEntry[];
}

/** The configuration with what the request adds: the container ID and the container's addresses. */
export interface PortmapRequestConf extends PortmapNetConf {
  containerId: string;
  /** The first IPv4 address of the container interface in prevResult. */
  containerV4: ContainerAddress | undefined;
  /** The first IPv6 address of the container interface in prevResult. */
  containerV6: ContainerAddress | undefined;
}

const isAbsent = (value: unknown): value is undefined | null => value === undefined || value === null;

function boolKey(conf: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = conf[key];
  if (isAbsent(value)) return fallback;
  if (typeof value !== 'boolean') throw invalidConfigError(key, value, 'a boolean');
  return value;
}

function conditionsKey(conf: Record<string, unknown>, key: string): string[] {
  const value = conf[key];
  if (isAbsent(value)) return [];
  if (!Array.isArray(value) || value.some((token) => typeof token !== 'string')) throw invalidConfigError(key, value, 'a list of strings');
  return value as string[];
}

/** The backend a list of conditions is written for, as upstream infers it from the first token. */
export function backendOfConditions(conditions: readonly string[]): PortmapBackend | undefined {
  const first = conditions[0];
  if (first === undefined || first === '') return undefined;
  return first.startsWith('-') || first.startsWith('!') ? 'iptables' : 'nftables';
}

function portKey(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidConfigError(key, value, 'an integer in [1, 65535]');
  }
  return value;
}

/** Validate `runtimeConfig.portMappings`; every bad entry is an error naming its index, key and value. */
export function parsePortMappings(value: unknown): PortMapEntry[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) throw invalidConfigError('runtimeConfig.portMappings', value, 'a list');
  return value.map((entry: unknown, index) => {
    const key = `runtimeConfig.portMappings[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalidConfigError(key, entry, 'an object');
    const record = entry as Record<string, unknown>;
    const hostPort = portKey(`${key}.hostPort`, record['hostPort']);
    const containerPort = portKey(`${key}.containerPort`, record['containerPort']);
    // A missing protocol would reach iptables as `-p ""` upstream and fail there; tcp is what every runtime means by it.
    const rawProtocol = isAbsent(record['protocol']) || record['protocol'] === '' ? 'tcp' : record['protocol'];
    const protocol = typeof rawProtocol === 'string' ? rawProtocol.toLowerCase() : rawProtocol;
    if (!(PORTMAP_PROTOCOLS as readonly unknown[]).includes(protocol)) {
      throw invalidConfigError(`${key}.protocol`, record['protocol'], '"tcp", "udp" or "sctp"');
    }
    const hostIP = isAbsent(record['hostIP']) ? '' : record['hostIP'];
    if (typeof hostIP !== 'string' || (hostIP !== '' && isIP(hostIP) === 0)) {
      throw invalidConfigError(`${key}.hostIP`, record['hostIP'], 'an IPv4 or IPv6 address');
    }
    return { hostPort, containerPort, protocol: protocol as PortMapEntry['protocol'], hostIP };
  });
}

/**
 * Read portmap's keys as upstream's `parseConfig` and `ensureBackend`, every check made before
 * anything changes: a CNI error (code 7) naming the key and the value.
 */
export function loadConf(conf: NetConf): PortmapNetConf {
  const record = conf as Record<string, unknown>;
  const backend = record['backend'];
  if (!isAbsent(backend) && !(PORTMAP_BACKENDS as readonly unknown[]).includes(backend)) {
    throw invalidConfigError('backend', backend, '"iptables" or "nftables"');
  }
  const snat = boolKey(record, 'snat', true);
  const masqAll = boolKey(record, 'masqAll', false);

  const external = record['externalSetMarkChain'];
  if (!isAbsent(external) && (typeof external !== 'string' || !/^[^\s!"']{1,28}$/.test(external))) {
    throw invalidConfigError('externalSetMarkChain', external, 'an iptables chain name (1 to 28 characters, no spaces or quotes)');
  }
  const markBit = record['markMasqBit'];
  if (!isAbsent(markBit) && !isAbsent(external)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `cannot specify both externalSetMarkChain ${JSON.stringify(external)} and markMasqBit ${JSON.stringify(markBit)}`);
  }
  if (!isAbsent(markBit) && (typeof markBit !== 'number' || !Number.isInteger(markBit) || markBit < 0 || markBit > 31)) {
    throw invalidConfigError('markMasqBit', markBit, 'an integer in [0, 31]');
  }
  const conditionsV4 = conditionsKey(record, 'conditionsV4');
  const conditionsV6 = conditionsKey(record, 'conditionsV6');

  // Upstream's ensureBackend: options that only one backend understands pin the other one out.
  const specific: Record<PortmapBackend, string[]> = { iptables: [], nftables: [] };
  if (!isAbsent(external)) specific.iptables.push('externalSetMarkChain');
  for (const [key, conditions] of [['conditionsV4', conditionsV4], ['conditionsV6', conditionsV6]] as const) {
    const owner = backendOfConditions(conditions);
    if (owner) specific[owner].push(key);
  }
  if (backend === 'iptables' && specific.nftables.length > 0) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${specific.nftables.join(', ')}: nftables conditions with backend "iptables"`);
  }
  if (backend === 'nftables' && specific.iptables.length > 0) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${specific.iptables.join(', ')}: iptables-only options with backend "nftables"`);
  }

  const runtimeConfig = conf.runtimeConfig;
  if (!isAbsent(runtimeConfig) && (typeof runtimeConfig !== 'object' || Array.isArray(runtimeConfig))) {
    throw invalidConfigError('runtimeConfig', runtimeConfig, 'an object');
  }
  const portMappings = parsePortMappings(runtimeConfig?.['portMappings']);

  return {
    ...conf,
    // Options of one backend choose it when none is named, so that detection never picks the other.
    backend: (backend as PortmapBackend | undefined) ?? (specific.iptables.length > 0 ? 'iptables' : specific.nftables.length > 0 ? 'nftables' : undefined),
    snat,
    masqAll,
    markMasqBit: (markBit as number | undefined) ?? DEFAULT_MARK_MASQ_BIT,
    externalSetMarkChain: external as string | undefined,
    conditionsV4,
    conditionsV6,
    portMappings,
  };
}

/**
 * The container's first IPv4 and first IPv6 address, as upstream picks them: addresses on
 * `ifName` inside a sandbox, or addresses that name no interface.
 */
export function containerAddresses(prevResult: Result | undefined, ifName: string): { v4?: ContainerAddress; v6?: ContainerAddress } {
  if (!prevResult) return {};
  const result = toCurrentResult(prevResult);
  const out: { v4?: ContainerAddress; v6?: ContainerAddress } = {};
  for (const ip of result.ips ?? []) {
    const address = ip.address.split('/')[0]!;
    const family = isIP(address) === 6 ? 6 : 4;
    if ((family === 4 && out.v4) || (family === 6 && out.v6)) continue;
    if (ip.interface !== undefined && ip.interface !== null) {
      const iface = result.interfaces?.[ip.interface];
      if (iface && (iface.name !== ifName || !iface.sandbox)) continue;
    }
    const entry: ContainerAddress = { ip: address, cidr: ip.address, family };
    if (family === 4) out.v4 = entry;
    else out.v6 = entry;
  }
  return out;
}

/** {@link loadConf} plus the request's container ID and addresses. */
export function loadRequestConf(request: Pick<PluginRequest, 'conf' | 'prevResult' | 'containerId' | 'ifName'>): PortmapRequestConf {
  const conf = loadConf(request.conf);
  const { v4, v6 } = containerAddresses(request.prevResult, request.ifName);
  return { ...conf, containerId: request.containerId, containerV4: v4, containerV6: v6 };
}
