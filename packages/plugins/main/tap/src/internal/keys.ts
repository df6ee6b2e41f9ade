// SPDX-License-Identifier: Apache-2.0
import { invalidConfigError, type NetConf } from '@cni/spec';

// Readers of plugin keys with the types Go's json.Unmarshal enforces upstream, but with errors that
// name the key and the value (code 7) instead of Go's "cannot unmarshal ... into Go struct field".

/** An optional string key. */
export function optionalString(conf: Record<string, unknown>, key: string, path = key): string | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidConfigError(path, value, 'a string');
  return value;
}

/** An optional boolean key, false when absent. */
export function optionalBool(conf: Record<string, unknown>, key: string): boolean {
  const value = conf[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalidConfigError(key, value, 'a boolean');
  return value;
}

/** An optional integer key within [min, max], `fallback` when absent. */
export function optionalInt(conf: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const value = conf[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfigError(key, value, `an integer in [${min}, ${max}]`);
  }
  return value;
}

/** The IPAM plugin's type, `''` when the configuration has no IPAM section (L2 only). */
export function ipamType(conf: NetConf): string {
  return conf.ipam?.type ?? '';
}

/** The largest value of a Go uint32. */
export const UINT32_MAX = 0xffff_ffff;

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/**
 * A 48-bit MAC address in canonical form (lowercase, colons), as Go's `net.ParseMAC` reads the
 * forms a link takes; `source` names where it came from for the error.
 */
export function parseMac(value: string, source: string): string {
  if (!MAC.test(value)) throw invalidConfigError(source, value, 'a MAC address such as "0e:00:00:00:00:01"');
  return value.toLowerCase().replaceAll('-', ':');
}
