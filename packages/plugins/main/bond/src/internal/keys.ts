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

/** The IPAM plugin's type, `''` when the configuration has no IPAM section. */
export function ipamTypeOf(conf: NetConf): string {
  const type = (conf.ipam as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : '';
}
