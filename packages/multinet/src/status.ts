// SPDX-License-Identifier: Apache-2.0
import { toCurrentResult, type Dns, type Result } from '@cni/spec';

/** One entry of the `k8s.v1.cni.cncf.io/network-status` annotation (spec §5). */
export interface NetworkStatus {
  /** `namespace/name` for a NAD, the configuration's name otherwise. */
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  /** True for the cluster default network only. */
  default: boolean;
  dns?: Dns;
  /** The gateways the selection asked to own the default route, when it asked. */
  'default-route'?: string[];
  /** Device information (Device Information Spec), when the attachment reported some. */
  'device-info'?: Record<string, unknown>;
}

/** What {@link networkStatus} needs of one attachment. */
export interface StatusInput {
  name: string;
  isDefault: boolean;
  result: Result | undefined;
  defaultRoute?: string[] | undefined;
  deviceInfo?: Record<string, unknown> | undefined;
}

/**
 * The status entry of one attachment, as spec §5 defines it: the first sandbox interface of the
 * result with its MAC, the addresses on that interface (or, when none point at it, those that
 * point at no interface) without their prefix length, DNS when the result has some, and only
 * the keys the spec names. Without a result, a minimal entry.
 */
export function networkStatus(input: StatusInput): NetworkStatus {
  const entry: NetworkStatus = { name: input.name, default: input.isDefault };
  if (input.result !== undefined) {
    const result = toCurrentResult(input.result);
    const interfaces = result.interfaces ?? [];
    const index = interfaces.findIndex((iface) => iface.sandbox !== undefined && iface.sandbox !== '');
    const iface = index >= 0 ? interfaces[index] : undefined;
    const ips = result.ips ?? [];
    let own = index >= 0 ? ips.filter((ip) => ip.interface === index) : [];
    if (own.length === 0) own = ips.filter((ip) => ip.interface === undefined || ip.interface < 0);
    if (iface) entry.interface = iface.name;
    if (own.length > 0) entry.ips = own.map((ip) => ip.address.split('/')[0] as string);
    if (iface?.mac) entry.mac = iface.mac;
    const dns = result.dns;
    if (dns && ((dns.nameservers?.length ?? 0) > 0 || dns.domain || (dns.search?.length ?? 0) > 0)) {
      const out: Dns = {};
      if (dns.nameservers?.length) out.nameservers = [...dns.nameservers];
      if (dns.domain) out.domain = dns.domain;
      if (dns.search?.length) out.search = [...dns.search];
      entry.dns = out;
    }
  }
  // Reordered so `default` follows the interface keys, as the spec's examples print it.
  const ordered: NetworkStatus = { name: entry.name } as NetworkStatus;
  if (entry.interface !== undefined) ordered.interface = entry.interface;
  if (entry.ips !== undefined) ordered.ips = entry.ips;
  if (entry.mac !== undefined) ordered.mac = entry.mac;
  ordered.default = entry.default;
  if (entry.dns !== undefined) ordered.dns = entry.dns;
  if (input.defaultRoute !== undefined) ordered['default-route'] = [...input.defaultRoute];
  if (input.deviceInfo !== undefined) ordered['device-info'] = input.deviceInfo;
  return ordered;
}
