// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import { MultinetError } from './errors.ts';

/** The pod annotation that selects the extra networks (spec §4.1). */
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
/** The pod annotation the delegating plugin publishes (spec §5). */
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
/** The pod annotation that replaces the cluster default network (Multus's, kept for its users). */
export const DEFAULT_NETWORK_ANNOTATION = 'v1.multus-cni.io/default-network';

/** A port mapping of a selection element, as portmap reads it from `runtimeConfig.portMappings`. */
export interface PortMappingRequest {
  hostPort: number;
  containerPort: number;
  /** Lower case: `tcp`, `udp` or `sctp` (`tcp` when the element gave none). */
  protocol: string;
  hostIP?: string;
}

/** A bandwidth request (bits per second, bits), as the bandwidth plugin reads it. */
export interface BandwidthRequest {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/**
 * One network a pod selects, validated and normalised; both annotation forms give this shape.
 * Optional keys are absent when the element did not set them.
 */
export interface NetworkSelection {
  /** The NetworkAttachmentDefinition's name. */
  name: string;
  /** Its namespace: the element's, else the pod's. */
  namespace: string;
  /** The interface name in the pod (`interface`, or the deprecated `interfaceRequest`, or `@ifname`). */
  interface?: string;
  /** Addresses asked for, each an IP with an optional prefix length. */
  ips?: string[];
  /** A 6-byte MAC, lower case with colons. */
  mac?: string;
  /** Merged into `args.cni` of every plugin of the network; these values win. */
  cniArgs?: Record<string, unknown>;
  portMappings?: PortMappingRequest[];
  bandwidth?: BandwidthRequest;
  /** Gateways that become the pod's default route (may be empty). */
  defaultRoute?: string[];
  /** An 8-byte InfiniBand GUID. */
  infinibandGuid?: string;
  /** An IPAMClaim's name (spec 1.3). */
  ipamClaimReference?: string;
  /** Keys with a period (extensions, in reverse-DNS form), kept as given. */
  extensions?: Record<string, unknown>;
}

/** A DNS-1123 label, the form of NAD names and namespaces (spec §3.3). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u;

/** Why `name` is not a DNS-1123 label of at most 63 characters, or undefined. */
function labelProblem(what: string, name: string): string | undefined {
  if (name.length > 63) return `${what} ${JSON.stringify(name)} is longer than 63 characters`;
  if (!DNS1123_LABEL.test(name)) return `${what} ${JSON.stringify(name)} is not a lowercase DNS-1123 label`;
  return undefined;
}

/** Why `name` is not a valid Linux interface name (the kernel's `dev_valid_name`), or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '') return 'interface name is empty';
  if (Buffer.byteLength(name) > 15) return `interface name ${JSON.stringify(name)} is longer than 15 bytes`;
  if (name === '.' || name === '..') return `interface name ${JSON.stringify(name)} is not allowed`;
  if (/[/:\s]/u.test(name)) return `interface name ${JSON.stringify(name)} contains "/", ":" or whitespace`;
  return undefined;
}

/** Why `text` is not an IP address with an optional prefix length, or undefined. */
function ipProblem(text: unknown, allowPrefix: boolean): string | undefined {
  if (typeof text !== 'string') return `${JSON.stringify(text)} is not a string`;
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `${JSON.stringify(text)} is not an IP address`;
  if (slash >= 0) {
    if (!allowPrefix) return `${JSON.stringify(text)} must not carry a prefix length`;
    const prefix = text.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/u.test(prefix) || Number(prefix) > max) return `${JSON.stringify(text)} has an invalid prefix length`;
  }
  return undefined;
}

/** `bytes` colon- or hyphen-separated hex pairs, normalised to lower case with colons. */
function hexBytes(text: string, bytes: number): string | undefined {
  const parts = text.split(/[:-]/u);
  if (parts.length !== bytes || !parts.every((part) => /^[0-9a-fA-F]{2}$/u.test(part))) return undefined;
  if (text.includes(':') && text.includes('-')) return undefined;
  return parts.join(':').toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Thrown inside validation; the caller adds which element failed. */
class ElementProblem extends Error {}

function problem(text: string): never {
  throw new ElementProblem(text);
}

function readPortMappings(value: unknown): PortMappingRequest[] {
  if (!Array.isArray(value)) problem('portMappings must be a list');
  return value.map((entry, i) => {
    if (!isRecord(entry)) problem(`portMappings[${i}] must be an object`);
    if (!isPort(entry.hostPort)) problem(`portMappings[${i}].hostPort must be an integer from 1 to 65535`);
    if (!isPort(entry.containerPort)) problem(`portMappings[${i}].containerPort must be an integer from 1 to 65535`);
    let protocol = 'tcp';
    if (entry.protocol !== undefined && entry.protocol !== '') {
      if (typeof entry.protocol !== 'string' || !/^(tcp|udp|sctp)$/iu.test(entry.protocol)) {
        problem(`portMappings[${i}].protocol ${JSON.stringify(entry.protocol)} must be TCP, UDP or SCTP`);
      }
      protocol = entry.protocol.toLowerCase();
    }
    const mapping: PortMappingRequest = { hostPort: entry.hostPort, containerPort: entry.containerPort, protocol };
    if (entry.hostIP !== undefined && entry.hostIP !== '') {
      const bad = ipProblem(entry.hostIP, false);
      if (bad) problem(`portMappings[${i}].hostIP ${bad}`);
      mapping.hostIP = entry.hostIP as string;
    }
    return mapping;
  });
}

function readBandwidth(value: unknown): BandwidthRequest {
  if (!isRecord(value)) problem('bandwidth must be an object');
  const out: BandwidthRequest = {};
  for (const key of ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) problem(`bandwidth.${key} must be a positive integer`);
    out[key] = v;
  }
  if (out.ingressBurst !== undefined && out.ingressRate === undefined) problem('bandwidth.ingressBurst needs ingressRate');
  if (out.egressBurst !== undefined && out.egressRate === undefined) problem('bandwidth.egressBurst needs egressRate');
  if (Object.keys(out).length === 0) problem('bandwidth sets no rate');
  return out;
}

/**
 * The one validation both forms go through: `raw` is a JSON element, or the object a comma-form
 * item stands for. Throws ElementProblem.
 */
function readElement(raw: unknown, podNamespace: string): NetworkSelection {
  if (!isRecord(raw)) problem('an element must be an object');
  if (typeof raw.name !== 'string' || raw.name === '') problem('name is required and must be a string');
  const nameProblem = labelProblem('name', raw.name);
  if (nameProblem) problem(nameProblem);
  let namespace = podNamespace;
  if (raw.namespace !== undefined && raw.namespace !== '') {
    if (typeof raw.namespace !== 'string') problem('namespace must be a string');
    const nsProblem = labelProblem('namespace', raw.namespace);
    if (nsProblem) problem(nsProblem);
    namespace = raw.namespace;
  }
  const out: NetworkSelection = { name: raw.name, namespace };

  // interfaceRequest is the pre-3.2 Multus spelling of interface; both may be given if they agree.
  const iface = raw.interface ?? raw.interfaceRequest;
  if (raw.interface !== undefined && raw.interfaceRequest !== undefined && raw.interface !== raw.interfaceRequest) {
    problem(`interface ${JSON.stringify(raw.interface)} and interfaceRequest ${JSON.stringify(raw.interfaceRequest)} disagree`);
  }
  if (iface !== undefined && iface !== '') {
    if (typeof iface !== 'string') problem('interface must be a string');
    const bad = interfaceNameProblem(iface);
    if (bad) problem(bad);
    out.interface = iface;
  }

  if (raw.ips !== undefined) {
    if (!Array.isArray(raw.ips) || raw.ips.length === 0) problem('ips must be a non-empty list');
    for (const ip of raw.ips) {
      const bad = ipProblem(ip, true);
      if (bad) problem(`ips: ${bad}`);
    }
    out.ips = [...(raw.ips as string[])];
  }
  if (raw.mac !== undefined && raw.mac !== '') {
    const mac = typeof raw.mac === 'string' ? hexBytes(raw.mac, 6) : undefined;
    if (mac === undefined) problem(`mac ${JSON.stringify(raw.mac)} is not a 6-byte Ethernet address`);
    out.mac = mac;
  }
  if (raw['infiniband-guid'] !== undefined && raw['infiniband-guid'] !== '') {
    const value = raw['infiniband-guid'];
    const guid = typeof value === 'string' ? hexBytes(value, 8) : undefined;
    if (guid === undefined) problem(`infiniband-guid ${JSON.stringify(value)} is not an 8-byte GUID`);
    out.infinibandGuid = guid;
  }
  if (raw['cni-args'] !== undefined && raw['cni-args'] !== null) {
    if (!isRecord(raw['cni-args'])) problem('cni-args must be an object');
    out.cniArgs = { ...raw['cni-args'] };
  }
  if (raw.portMappings !== undefined) out.portMappings = readPortMappings(raw.portMappings);
  if (raw.bandwidth !== undefined) out.bandwidth = readBandwidth(raw.bandwidth);
  if (raw['default-route'] !== undefined) {
    if (!Array.isArray(raw['default-route'])) problem('default-route must be a list');
    for (const gateway of raw['default-route']) {
      const bad = ipProblem(gateway, false);
      if (bad) problem(`default-route: ${bad}`);
    }
    out.defaultRoute = [...(raw['default-route'] as string[])];
  }
  if (raw['ipam-claim-reference'] !== undefined && raw['ipam-claim-reference'] !== '') {
    if (typeof raw['ipam-claim-reference'] !== 'string') problem('ipam-claim-reference must be a string');
    out.ipamClaimReference = raw['ipam-claim-reference'];
  }
  const extensions = Object.entries(raw).filter(([key]) => key.includes('.'));
  if (extensions.length > 0) out.extensions = Object.fromEntries(extensions);
  return out;
}

/** A comma-form item `[namespace/]name[@ifname]` as the object the JSON form would give. */
function commaItem(item: string): Record<string, unknown> {
  const slash = item.indexOf('/');
  const namespace = slash < 0 ? undefined : item.slice(0, slash);
  const rest = slash < 0 ? item : item.slice(slash + 1);
  if (rest.includes('/')) problem('an item has at most one "/"');
  const at = rest.indexOf('@');
  const name = at < 0 ? rest : rest.slice(0, at);
  const iface = at < 0 ? undefined : rest.slice(at + 1);
  if (namespace === '') problem('namespace before "/" is empty');
  if (iface === '') problem('interface after "@" is empty');
  if (iface?.includes('@')) problem('an item has at most one "@"');
  return { name, ...(namespace === undefined ? {} : { namespace }), ...(iface === undefined ? {} : { interface: iface }) };
}

/**
 * Parse the `k8s.v1.cni.cncf.io/networks` annotation of a pod in `podNamespace`: the comma
 * form (`a,b,other-ns/c@net5`) or the JSON list form, with one set of rules for both (spec
 * §4.1). An empty value selects nothing. An invalid value fails as a whole with a
 * {@link MultinetError} that quotes the bad element, and so does a second element carrying
 * `default-route` (only one may).
 *
 * @example
 * ```ts
 * parseNetworkSelection('left-network,extns/data-network@data0', 'default');
 * // [{ name: 'left-network', namespace: 'default' },
 * //  { name: 'data-network', namespace: 'extns', interface: 'data0' }]
 * ```
 */
export function parseNetworkSelection(value: string, podNamespace: string): NetworkSelection[] {
  const text = value.trim();
  if (text === '') return [];
  const fail = (element: string, why: string) =>
    new MultinetError(`invalid ${NETWORKS_ANNOTATION} annotation: element ${element}: ${why}`);
  let selections: NetworkSelection[];
  if (/[[{"]/u.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new MultinetError(`invalid ${NETWORKS_ANNOTATION} annotation ${JSON.stringify(text)}: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) {
      throw new MultinetError(`invalid ${NETWORKS_ANNOTATION} annotation ${JSON.stringify(text)}: must be a JSON list`);
    }
    selections = parsed.map((element: unknown) => {
      try {
        return readElement(element, podNamespace);
      } catch (error) {
        if (error instanceof ElementProblem) throw fail(JSON.stringify(element), error.message);
        throw error;
      }
    });
  } else {
    selections = text.split(',').map((part) => {
      const item = part.trim();
      try {
        if (item === '') problem('empty item');
        return readElement(commaItem(item), podNamespace);
      } catch (error) {
        if (error instanceof ElementProblem) throw fail(JSON.stringify(item), error.message);
        throw error;
      }
    });
  }
  const withRoute = selections.filter((selection) => selection.defaultRoute !== undefined);
  if (withRoute.length > 1) {
    const second = withRoute[1] as NetworkSelection;
    throw fail(JSON.stringify(`${second.namespace}/${second.name}`), 'only one element may carry default-route');
  }
  return selections;
}

/**
 * Parse the `v1.multus-cni.io/default-network` annotation: one network, `[namespace/]name` or a
 * JSON list of one element, with the rules of {@link parseNetworkSelection}; a missing
 * namespace is `defaultNamespace` (the plugin's namespace for cluster networks).
 */
export function parseDefaultNetworkAnnotation(value: string, defaultNamespace: string): NetworkSelection {
  const selections = parseNetworkSelection(value, defaultNamespace);
  if (selections.length !== 1) {
    throw new MultinetError(`invalid ${DEFAULT_NETWORK_ANNOTATION} annotation ${JSON.stringify(value)}: must name exactly one network`);
  }
  return selections[0] as NetworkSelection;
}
