// SPDX-License-Identifier: Apache-2.0
import type { NetConf, Result } from '@cni/spec';
import type { PluginRequest } from '@cni/skel';

/** Loopback's configuration: the standard keys only; upstream's loopback reads no key of its own. */
export interface LoopbackNetConf extends NetConf {
  /** The previous plugin's result, parsed in the configuration's version, when loopback is chained. */
  parsedPrevResult: Result | undefined;
}

/**
 * Read the configuration as upstream's `parseNetConf`: nothing to validate but `prevResult`,
 * which must parse as a result of the configuration's version (code 7 otherwise).
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'prevResult'>): LoopbackNetConf {
  return { ...request.conf, parsedPrevResult: request.prevResult };
}

/** The interface loopback acts on, whatever CNI_IFNAME says (upstream overrides it too). */
export const LOOPBACK = 'lo';
