// SPDX-License-Identifier: Apache-2.0
import type { Dns } from '../config.ts';

/** A route of results 0.1.0 and 0.2.0. */
export interface RouteV020 {
  dst: string;
  gw?: string;
}

/** The per-family section (`ip4`, `ip6`) of results 0.1.0 and 0.2.0. */
export interface IpConfigV020 {
  ip: string;
  gateway?: string;
  routes?: RouteV020[];
}

/** A result of spec 0.1.0 or 0.2.0 (the two are identical). */
export interface ResultV020 {
  cniVersion: '0.1.0' | '0.2.0';
  ip4?: IpConfigV020;
  ip6?: IpConfigV020;
  dns?: Dns;
}

/** An interface of a result 0.3.0 to 0.4.0. */
export interface InterfaceV040 {
  name: string;
  mac?: string;
  sandbox?: string;
}

/** An address of a result 0.3.0 to 0.4.0; `version` is "4" or "6". */
export interface IpConfigV040 {
  version: '4' | '6';
  /** Index into `interfaces`. */
  interface?: number;
  address: string;
  gateway?: string;
}

/**
 * A route of results 0.3.0 and later. The 1.1.0 fields (mtu, advmss, priority, table, scope)
 * live on the shared route type upstream, so they survive a down-conversion to 0.4.0.
 */
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** A result of spec 0.3.0, 0.3.1 or 0.4.0. */
export interface ResultV040 {
  cniVersion: '0.3.0' | '0.3.1' | '0.4.0';
  interfaces?: InterfaceV040[];
  ips?: IpConfigV040[];
  routes?: Route[];
  dns?: Dns;
}

/** An interface of a result 1.0.0 or 1.1.0. */
export interface InterfaceV100 {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

/** An address of a result 1.0.0 or 1.1.0. */
export interface IpConfigV100 {
  interface?: number;
  address: string;
  gateway?: string;
}

/** A result of spec 1.0.0 or 1.1.0 (field-identical; 1.1.0 fields are optional). */
export interface ResultV100 {
  cniVersion: '1.0.0' | '1.1.0';
  interfaces?: InterfaceV100[];
  ips?: IpConfigV100[];
  routes?: Route[];
  dns?: Dns;
}

/** The result type of the newest spec version: what plugins build internally. */
export type CurrentResult = ResultV100;

/** A result of any spec version. */
export type Result = ResultV020 | ResultV040 | ResultV100;
