// SPDX-License-Identifier: Apache-2.0
import type { CniError } from '../errors.ts';
import { marshalIndent, sortKeysDeep } from '../internal/json.ts';
import { convertResult, versionOf } from './convert.ts';
import { resultFamily } from './parse.ts';
import type { Result } from './types.ts';

/**
 * The text a plugin prints for a result, byte for byte as upstream's `types.PrintResult`:
 * converted to `toVersion` when given (a plugin passes its config's `cniVersion`), JSON indented
 * with 4 spaces, no trailing newline, Go's HTML-safe escapes.
 *
 * Key order and `dns` follow upstream's types: a 1.x result goes through a map in Go, so its keys
 * come out sorted at every level and an empty `dns` is left out (cni v1.2+); 0.x results keep the
 * struct order and always print `"dns": {}` when empty, as every cni release does for them.
 *
 * @example
 * ```ts
 * stdout.write(formatResult(result, conf.cniVersion));
 * ```
 */
export function formatResult(result: Result, toVersion?: string): string {
  const converted = convertResult(result, toVersion ?? versionOf(result));
  if (resultFamily(converted.cniVersion) === '100') return marshalIndent(sortKeysDeep(converted));
  return marshalIndent({ ...converted, dns: converted.dns ?? {} });
}

/**
 * The text a plugin prints for an error (SPEC.md section 5), as upstream's `types.Error.Print`:
 * `{"code", "msg", "details"?}` indented with 4 spaces. `cniVersion` is added only when given;
 * upstream's skel leaves it out.
 */
export function formatError(error: CniError, cniVersion?: string): string {
  return marshalIndent(error.toJSON(cniVersion));
}
