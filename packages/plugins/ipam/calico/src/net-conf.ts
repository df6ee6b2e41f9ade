// SPDX-License-Identifier: Apache-2.0
// calico-ipam's configuration: Calico's CNI keys (cni-plugin/pkg/types), every one checked
// before the datastore is touched.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Cidr, type IpAddress, parseIpOrCidr } from '@cni/ip';
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError } from '@cni/spec';

/** Where Calico's node agent writes the node's name; read when `nodename` is not set. */
export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';
/** Calico's node-wide lock, serialising this node's allocations. */
export const DEFAULT_LOCK_FILE = '/var/run/calico/ipam.lock';
/** How long GC leaves an allocation alone after it was made. */
export const DEFAULT_GC_GRACE_SECONDS = 60;
/** The datastore types Calico knows; only `etcdv3` is served here. */
export const SUPPORTED_DATASTORES = ['etcdv3'] as const;

/** The configuration with defaults applied. */
export interface CalicoIpamConf {
  /** The network's name: the first part of every handle (`<name>.<containerID>`). */
  name: string;
  cniVersion: string;
  datastoreType: 'etcdv3';
  etcdEndpoints: string[];
  etcdKeyFile: string | undefined;
  etcdCertFile: string | undefined;
  etcdCaCertFile: string | undefined;
  nodename: string;
  lockFile: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  ipv4Pools: string[];
  ipv6Pools: string[];
  gcGraceSeconds: number;
  /** Requested addresses: `runtimeConfig.ips` (capability `ips`), else CNI_ARGS `IP` (comma-separated). */
  requested: IpAddress[];
  /** CNI_ARGS K8S_POD_NAME / K8S_POD_NAMESPACE, recorded on the allocation as Calico does. */
  pod: string | undefined;
  namespace: string | undefined;
}

function record(value: unknown, key: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidConfigError(key, value, 'an object');
  return value as Record<string, unknown>;
}

function optString(conf: Record<string, unknown>, key: string, path = key): string | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidConfigError(path, value, 'a string');
  return value;
}

function optBool(conf: Record<string, unknown>, key: string, path = key): boolean | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidConfigError(path, value, 'a boolean');
  return value;
}

/** Calico's `assign_ipv4`/`assign_ipv6`: strings `"true"`/`"false"` (a JSON boolean is taken too). */
function assignFlag(ipam: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = ipam[key];
  if (value === undefined || value === null) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidConfigError(`ipam.${key}`, value, 'the string "true" or "false"');
}

function poolList(ipam: Record<string, unknown>, key: string): string[] {
  const value = ipam[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidConfigError(`ipam.${key}`, value, 'a list of pool names or CIDRs');
  return value.map((entry: unknown, index) => {
    if (typeof entry !== 'string' || entry === '') throw invalidConfigError(`ipam.${key}[${index}]`, entry, 'a pool name or CIDR (a non-empty string)');
    return entry;
  });
}

function requestedAddress(text: unknown, key: string): IpAddress {
  if (typeof text !== 'string') throw invalidConfigError(key, text, 'an IP address');
  try {
    const parsed = parseIpOrCidr(text);
    return parsed instanceof Cidr ? parsed.address.unmap() : parsed.unmap();
  } catch {
    throw invalidConfigError(key, text, 'an IP address');
  }
}

function determineNodename(conf: Record<string, unknown>): string {
  const explicit = optString(conf, 'nodename');
  const file = optString(conf, 'nodename_file');
  const optional = optBool(conf, 'nodename_file_optional') ?? false;
  if (explicit !== undefined && explicit !== '') return explicit;
  const path = file === undefined || file === '' ? DEFAULT_NODENAME_FILE : file;
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text !== '') return text;
  } catch (error) {
    if (!optional && file !== undefined && file !== '') {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `cannot read nodename_file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (set nodename, or nodename_file_optional: true to use the host name)`);
    }
  }
  return hostname();
}

/**
 * Read and check the configuration: keys of the wrong type are refused with code 7 naming the
 * key, the expected type and the value, before any datastore access.
 */
export function loadConf(request: PluginRequest): CalicoIpamConf {
  const conf = request.conf as unknown as Record<string, unknown>;
  const ipam = record(conf['ipam'], 'ipam') ?? {};
  const datastore = optString(conf, 'datastore_type') ?? 'etcdv3';
  if (datastore !== 'etcdv3') {
    throw new CniError(
      CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
      `datastore_type "${datastore}" is not supported by this calico-ipam: the supported datastore is ${SUPPORTED_DATASTORES.map((d) => `"${d}"`).join(', ')} (with etcd_endpoints)`,
    );
  }
  const endpointsText = optString(conf, 'etcd_endpoints');
  if (endpointsText === undefined || endpointsText.trim() === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'etcd_endpoints is required with datastore_type "etcdv3" (comma-separated client URLs, e.g. "https://10.0.0.1:2379,https://10.0.0.2:2379")');
  }
  const etcdEndpoints = endpointsText.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const endpoint of etcdEndpoints) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalidConfigError('etcd_endpoints', endpointsText, 'comma-separated http:// or https:// URLs');
  }
  const etcdKeyFile = optString(conf, 'etcd_key_file') || undefined;
  const etcdCertFile = optString(conf, 'etcd_cert_file') || undefined;
  const etcdCaCertFile = optString(conf, 'etcd_ca_cert_file') || undefined;
  if ((etcdKeyFile === undefined) !== (etcdCertFile === undefined)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'etcd_cert_file and etcd_key_file go together: set both or neither');
  }
  const lockFile = optString(conf, 'ipam_lock_file') || DEFAULT_LOCK_FILE;
  const assignIpv4 = assignFlag(ipam, 'assign_ipv4', true);
  const assignIpv6 = assignFlag(ipam, 'assign_ipv6', false);
  const ipv4Pools = poolList(ipam, 'ipv4_pools');
  const ipv6Pools = poolList(ipam, 'ipv6_pools');
  const grace = ipam['gc_grace_seconds'];
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0)) {
    throw invalidConfigError('ipam.gc_grace_seconds', grace, 'a number of seconds >= 0');
  }
  if (request.command === 'ADD' && !assignIpv4 && !assignIpv6) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'ipam.assign_ipv4 and ipam.assign_ipv6 are both "false": nothing to assign');
  }

  const runtimeConfig = record(conf['runtimeConfig'], 'runtimeConfig') ?? {};
  let requested: IpAddress[] = [];
  const runtimeIps = runtimeConfig['ips'];
  if (runtimeIps !== undefined && runtimeIps !== null) {
    if (!Array.isArray(runtimeIps)) throw invalidConfigError('runtimeConfig.ips', runtimeIps, 'a list of IP addresses');
    requested = runtimeIps.map((ip: unknown, index) => requestedAddress(ip, `runtimeConfig.ips[${index}]`));
  }
  const argIp = request.args['IP'];
  if (requested.length === 0 && argIp !== undefined && argIp !== '') {
    requested = argIp.split(',').map((ip) => requestedAddress(ip.trim(), 'CNI_ARGS IP'));
  }
  const families = new Set<number>();
  for (const ip of requested) {
    if (families.has(ip.family)) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `more than one requested IPv${ip.family} address (${requested.map(String).join(', ')}): one per family`);
    families.add(ip.family);
  }

  return {
    name: String(conf['name'] ?? ''),
    cniVersion: String(conf['cniVersion'] ?? ''),
    datastoreType: 'etcdv3',
    etcdEndpoints,
    etcdKeyFile,
    etcdCertFile,
    etcdCaCertFile,
    nodename: determineNodename(conf),
    lockFile,
    assignIpv4,
    assignIpv6,
    ipv4Pools,
    ipv6Pools,
    gcGraceSeconds: typeof grace === 'number' ? grace : DEFAULT_GC_GRACE_SECONDS,
    requested,
    pod: request.args['K8S_POD_NAME'] || undefined,
    namespace: request.args['K8S_POD_NAMESPACE'] || undefined,
  };
}

/** Calico's handle for a CNI attachment: `<network>.<containerID>` (`utils.GetHandleID`). */
export function handleIdOf(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}
