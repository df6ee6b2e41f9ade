// SPDX-License-Identifier: Apache-2.0
import { invalidConfigError, type Dns, type NetConf } from '@cni/spec';

// Readers of one configuration key each: the default when the key is absent (or null, which Go's
// encoding/json also reads as absent), code 7 naming the key and the value when it has the wrong type.

/** A boolean key; absent is `fallback`. */
export function boolKey(conf: NetConf, key: string, fallback = false): boolean {
  const value = conf[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidConfigError(key, value, 'a boolean');
  return value;
}

/** An integer key within `[min, max]`; absent is `fallback`. */
export function intKey(conf: NetConf, key: string, min: number, max: number, fallback = 0): number {
  const value = conf[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfigError(key, value, `an integer in [${min}, ${max}]`);
  }
  return value;
}

/** A string key, optionally one of `allowed`; absent is undefined. */
export function stringKey(conf: NetConf, key: string, allowed?: readonly string[]): string | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidConfigError(key, value, 'a string');
  if (allowed && !allowed.includes(value)) throw invalidConfigError(key, value, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return value;
}

/** True when the config's `dns` sets anything: then it replaces the IPAM plugin's, as upstream's `dnsConfSet`. */
export function dnsConfSet(dns: Dns | undefined): dns is Dns {
  return dns !== undefined && dns !== null && (dns.nameservers !== undefined || dns.search !== undefined || dns.options !== undefined || (dns.domain ?? '') !== '');
}
