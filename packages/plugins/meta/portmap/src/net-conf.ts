// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, decodeConfig, toCurrentResult, type NetConf, type Result, type ValueReader } from '@cni/spec';

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

/** The backend a list of conditions is written for, as upstream infers it from the first token. */
export function backendOfConditions(conditions: readonly string[]): PortmapBackend | undefined {
  const first = conditions[0];
  if (first === undefined || first === '') return undefined;
  return first.startsWith('-') || first.startsWith('!') ? 'iptables' : 'nftables';
}


/** One `runtimeConfig.portMappings` entry, read at its path (`runtimeConfig.portMappings[0]`). */
function readPortMapping(element: ValueReader): PortMapEntry | undefined {
  const record = element.optObject();
  if (element.absent) return element.fail('an object');
  if (record === undefined) return undefined;
  const port = (key: string): number => record.int(key, { min: 1, max: 65535 });
  const hostPort = port('hostPort');
  const containerPort = port('containerPort');
  // A missing protocol would reach iptables as `-p ""` upstream and fail there; tcp is what every runtime means by it.
  const protocolValue = record.key('protocol');
  const rawProtocol = protocolValue.absent || protocolValue.value === '' ? 'tcp' : protocolValue.value;
  const protocol = typeof rawProtocol === 'string' ? rawProtocol.toLowerCase() : rawProtocol;
  if (!(PORTMAP_PROTOCOLS as readonly unknown[]).includes(protocol)) protocolValue.fail('"tcp", "udp" or "sctp"');
  const hostIPValue = record.key('hostIP');
  const hostIP = hostIPValue.absent ? '' : hostIPValue.value;
  if (typeof hostIP !== 'string' || (hostIP !== '' && isIP(hostIP) === 0)) hostIPValue.fail('an IPv4 or IPv6 address');
  return { hostPort, containerPort, protocol: protocol as PortMapEntry['protocol'], hostIP: hostIP as string };
}

/** Validate `runtimeConfig.portMappings`; every bad entry is an error naming its index, key and value. */
export function parsePortMappings(value: unknown): PortMapEntry[] {
  return decodeConfig({ portMappings: value }, (r) => r.optArray('portMappings', readPortMapping) ?? [], 'runtimeConfig');
}

/**
 * Read portmap's keys as upstream's `parseConfig` and `ensureBackend`, through spec's
 * `decodeConfig`, every check made before anything changes: a CNI error (code 7) naming the key
 * path and the value, every type problem of one configuration reported together.
 */
export function loadConf(conf: NetConf): PortmapNetConf {
  const keys = decodeConfig(conf, (r) => {
    const backendValue = r.key('backend');
    if (!backendValue.absent && !(PORTMAP_BACKENDS as readonly unknown[]).includes(backendValue.value)) backendValue.fail('"iptables" or "nftables"');
    const externalValue = r.key('externalSetMarkChain');
    const external = externalValue.value;
    if (!externalValue.absent && (typeof external !== 'string' || !/^[^\s!"']{1,28}$/.test(external))) {
      externalValue.fail('an iptables chain name (1 to 28 characters, no spaces or quotes)');
    }
    return {
      backend: backendValue.absent ? undefined : (backendValue.value as PortmapBackend),
      snat: r.bool('snat', true),
      masqAll: r.bool('masqAll', false),
      external: externalValue.absent ? undefined : (external as string),
      markBit: r.optInt('markMasqBit', { min: 0, max: 31 }),
      conditionsV4: r.optStringArray('conditionsV4') ?? [],
      conditionsV6: r.optStringArray('conditionsV6') ?? [],
      portMappings: r.optObject('runtimeConfig')?.optArray('portMappings', readPortMapping) ?? [],
    };
  });
  const { backend, external, markBit, conditionsV4, conditionsV6 } = keys;
  if (markBit !== undefined && external !== undefined) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `cannot specify both externalSetMarkChain ${JSON.stringify(external)} and markMasqBit ${JSON.stringify(markBit)}`);
  }

  // Upstream's ensureBackend: options that only one backend understands pin the other one out.
  const specific: Record<PortmapBackend, string[]> = { iptables: [], nftables: [] };
  if (external !== undefined) specific.iptables.push('externalSetMarkChain');
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

  return {
    ...conf,
    // Options of one backend choose it when none is named, so that detection never picks the other.
    backend: backend ?? (specific.iptables.length > 0 ? 'iptables' : specific.nftables.length > 0 ? 'nftables' : undefined),
    snat: keys.snat,
    masqAll: keys.masqAll,
    markMasqBit: markBit ?? DEFAULT_MARK_MASQ_BIT,
    externalSetMarkChain: external,
    conditionsV4,
    conditionsV6,
    portMappings: keys.portMappings,
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
