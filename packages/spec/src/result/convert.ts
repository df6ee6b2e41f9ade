// SPDX-License-Identifier: Apache-2.0
// PLACEHOLDER: the spec helper replaces this file with upstream's conversion graph (02x <-> 04x <-> 100).
import { CNI_ERROR_CODES, CniError } from '../errors.ts';
import type { Result, ResultV100 } from './types.ts';

/** Convert a result to `toVersion` by upstream's rules; CniError where impossible. */
export function convertResult(result: Result, toVersion: string): Result {
  throw new CniError(CNI_ERROR_CODES.INTERNAL, `convertResult(${result.cniVersion} -> ${toVersion}) not implemented`);
}

/** Convert any result to the newest version ({@link ResultV100}, cniVersion 1.1.0). */
export function toCurrentResult(result: Result): ResultV100 {
  return convertResult(result, '1.1.0') as ResultV100;
}
