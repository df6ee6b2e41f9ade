// SPDX-License-Identifier: Apache-2.0
// Small typed readers shared by the config and result parsers. Each takes the path of the value
// (`ipam.type`, `ips[0].address`) so that every message names the key and the value.
import { CniError, type CniErrorCode } from '../errors.ts';
import { isIp, parseCidr } from './ip.ts';
import { isObject, show } from './json.ts';

/** Throws the parser's CniError for a value at `path` that is not what the parser expected. */
export type Fail = (path: string, value: unknown, expected: string) => never;

/** A {@link Fail} throwing `invalid <path> <value>, must be <expected>` with `code`. */
export function failWith(code: CniErrorCode): Fail {
  return (path, value, expected) => {
    if (value === undefined) throw new CniError(code, `missing ${path}, must be ${expected}`);
    throw new CniError(code, `invalid ${path} ${show(value)}, must be ${expected}`);
  };
}

/** A key of an object; an inherited `__proto__` or `toString` is not a key of a JSON object. */
export function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Go reads JSON `null` as "not set" for every field type; so do these readers. */
export function absent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

export function optObject(value: unknown, path: string, fail: Fail): Record<string, unknown> | undefined {
  if (absent(value)) return undefined;
  if (!isObject(value)) fail(path, value, 'an object');
  return value;
}

export function optArray(value: unknown, path: string, fail: Fail): unknown[] | undefined {
  if (absent(value)) return undefined;
  if (!Array.isArray(value)) fail(path, value, 'an array');
  return value;
}

export function optString(value: unknown, path: string, fail: Fail): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'string') fail(path, value, 'a string');
  return value;
}

export function optBoolean(value: unknown, path: string, fail: Fail): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') fail(path, value, 'a boolean');
  return value;
}

export function optInt(value: unknown, path: string, fail: Fail, min = Number.MIN_SAFE_INTEGER): number | undefined {
  if (absent(value)) return undefined;
  // Go decodes these into `int`: a fraction or a number beyond 2^53 is an error there too.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(path, value, min === 0 ? 'a non-negative integer' : 'an integer');
  }
  return value;
}

export function optStringArray(value: unknown, path: string, fail: Fail): string[] | undefined {
  const array = optArray(value, path, fail);
  if (!array) return undefined;
  array.forEach((item, i) => {
    // A null entry decodes to "" in Go; keep the array as it is and accept it.
    if (item !== null && typeof item !== 'string') fail(`${path}[${i}]`, item, 'a string');
  });
  return array.map((item) => (item === null ? '' : (item as string)));
}

export function optIp(value: unknown, path: string, fail: Fail): string | undefined {
  const text = optString(value, path, fail);
  if (text === undefined || text === '') return undefined;
  if (!isIp(text)) fail(path, text, 'an IP address');
  return text;
}

export function cidr(value: unknown, path: string, fail: Fail): string {
  const text = optString(value, path, fail);
  if (text === undefined) fail(path, undefined, 'a CIDR such as "10.1.2.3/24"');
  if (!parseCidr(text)) fail(path, text, 'a CIDR such as "10.1.2.3/24"');
  return text;
}
