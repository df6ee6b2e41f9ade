// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import type { PluginRequest } from '@cni/skel';
import { decodeConfig, toCurrentResult, type NetConf, type ResultV100 } from '@cni/spec';

/** The backends `backend` names. */
export const FIREWALL_BACKENDS = ['iptables', 'firewalld'] as const;
/** A firewall backend. */
export type FirewallBackendName = (typeof FIREWALL_BACKENDS)[number];
/** The values of `ingressPolicy` (`""` reads as `open`). */
export const INGRESS_POLICIES = ['open', 'same-bridge', 'isolated'] as const;
/** An ingress policy. */
export type IngressPolicy = (typeof INGRESS_POLICIES)[number];

/** Upstream's default admin chain. */
export const DEFAULT_ADMIN_CHAIN = 'CNI-ADMIN';
/** Upstream's default firewalld zone. */
export const DEFAULT_FIREWALLD_ZONE = 'trusted';

/** firewall's configuration with defaults applied. */
export interface FirewallNetConf extends NetConf {
  /** The backend asked for; undefined: firewalld when it owns its D-Bus name, else iptables. */
  backend: FirewallBackendName | undefined;
  /** The chain CNI-FORWARD jumps to first, for the administrator's own rules. */
  iptablesAdminChainName: string;
  /** The zone the container addresses join with firewalld. */
  firewalldZone: string;
  /** Who may reach the container across the bridge. */
  ingressPolicy: IngressPolicy;
}

/** One container address as the rules name it: `ip/32` or `ip/128`. */
export interface FirewallAddress {
  /** `10.0.0.2/32`, `fd00::2/128`. */
  host: string;
  family: 4 | 6;
}

/**
 * Read firewall's keys as upstream's `parseConf`, through spec's `decodeConfig`: every bad value
 * (a wrong type included) is a code-7 error naming key and value, all of them found in one pass.
 * `""` reads as the key's default, as upstream.
 */
export function loadConf(conf: NetConf): FirewallNetConf {
  const keys = decodeConfig(conf, (r) => {
    const text = (key: string, test: (value: string) => boolean, expected: string): string | undefined => {
      const value = r.key(key);
      const read = value.optString();
      if (read === undefined && !value.absent) return undefined; // a wrong type: recorded as "a string"
      if (read === undefined || read === '') return undefined;
      if (!test(read)) return value.fail(expected);
      return read;
    };
    return {
      backend: text('backend', (v) => (FIREWALL_BACKENDS as readonly string[]).includes(v), '"iptables" or "firewalld"') as FirewallBackendName | undefined,
      admin: text('iptablesAdminChainName', (v) => /^[^\s!"']{1,28}$/.test(v), 'an iptables chain name (1 to 28 characters, no spaces or quotes)'),
      zone: text('firewalldZone', (v) => /^[A-Za-z0-9_+-]{1,32}$/.test(v), 'a firewalld zone name'),
      policy: text('ingressPolicy', (v) => (INGRESS_POLICIES as readonly string[]).includes(v), '"open", "same-bridge" or "isolated"') as IngressPolicy | undefined,
    };
  });
  return {
    ...conf,
    backend: keys.backend,
    iptablesAdminChainName: keys.admin ?? DEFAULT_ADMIN_CHAIN,
    firewalldZone: keys.zone ?? DEFAULT_FIREWALLD_ZONE,
    ingressPolicy: keys.policy ?? 'open',
  };
}

/** prevResult in the current version, or undefined. */
export function currentPrevResult(request: Pick<PluginRequest, 'prevResult'>): ResultV100 | undefined {
  return request.prevResult === undefined ? undefined : toCurrentResult(request.prevResult);
}

/** Every address of prevResult as a host prefix, as upstream's `ipString`. */
export function resultAddresses(result: ResultV100 | undefined): FirewallAddress[] {
  return (result?.ips ?? []).map((ip) => {
    const address = ip.address.split('/')[0]!;
    const family = isIP(address) === 6 ? 6 : 4;
    return { host: `${address}/${family === 6 ? 128 : 32}`, family };
  });
}
