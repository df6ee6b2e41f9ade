// SPDX-License-Identifier: Apache-2.0
import { parseMacAddress } from '@cni/spec';

/** Where a plugin's MAC can come from; `undefined` or `''` is "not given". */
export interface MacSources {
  /** The configuration's `mac` key. */
  key?: string | undefined;
  /** CNI_ARGS `MAC`. */
  args?: string | undefined;
  /** `runtimeConfig.mac` (the `mac` capability). */
  runtime?: string | undefined;
}

/**
 * The MAC a plugin gives its link, by the one precedence of upstream's macvlan, tap and
 * sriov-cni: `runtimeConfig.mac`, else CNI_ARGS `MAC`, else the `mac` key. Only the winner is
 * validated (code 7 naming where it came from) and returned canonical: lower case, colons.
 */
export function macByPrecedence(sources: MacSources): string | undefined {
  if (sources.runtime) return parseMacAddress(sources.runtime, 'runtimeConfig.mac');
  if (sources.args) return parseMacAddress(sources.args, 'CNI_ARGS MAC');
  if (sources.key) return parseMacAddress(sources.key, 'mac');
  return undefined;
}
