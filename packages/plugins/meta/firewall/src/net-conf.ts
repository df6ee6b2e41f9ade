// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';
import type { PluginRequest } from '@cni/skel';
import { invalidConfigError, toCurrentResult, type NetConf, type ResultV100 } from '@cni/spec';

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

const isAbsent = (value: unknown): value is undefined | null => value === undefined || value === null;

/** Read firewall's keys as upstream's `parseConf`, each bad value a code-7 error naming key and value. */
export function loadConf(conf: NetConf): FirewallNetConf {
  const record = conf as Record<string, unknown>;
  const backend = record['backend'];
  if (!isAbsent(backend) && backend !== '' && !(FIREWALL_BACKENDS as readonly unknown[]).includes(backend)) {
    throw invalidConfigError('backend', backend, '"iptables" or "firewalld"');
  }
  const admin = record['iptablesAdminChainName'];
  if (!isAbsent(admin) && admin !== '' && (typeof admin !== 'string' || !/^[^\s!"']{1,28}$/.test(admin))) {
    throw invalidConfigError('iptablesAdminChainName', admin, 'an iptables chain name (1 to 28 characters, no spaces or quotes)');
  }
  const zone = record['firewalldZone'];
  if (!isAbsent(zone) && zone !== '' && (typeof zone !== 'string' || !/^[A-Za-z0-9_+-]{1,32}$/.test(zone))) {
    throw invalidConfigError('firewalldZone', zone, 'a firewalld zone name');
  }
  const policy = record['ingressPolicy'];
  if (!isAbsent(policy) && policy !== '' && !(INGRESS_POLICIES as readonly unknown[]).includes(policy)) {
    throw invalidConfigError('ingressPolicy', policy, '"open", "same-bridge" or "isolated"');
  }
  return {
    ...conf,
    backend: isAbsent(backend) || backend === '' ? undefined : (backend as FirewallBackendName),
    iptablesAdminChainName: isAbsent(admin) || admin === '' ? DEFAULT_ADMIN_CHAIN : (admin as string),
    firewalldZone: isAbsent(zone) || zone === '' ? DEFAULT_FIREWALLD_ZONE : (zone as string),
    ingressPolicy: isAbsent(policy) || policy === '' ? 'open' : (policy as IngressPolicy),
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
