// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import type { Result } from '@cni/spec';
import { loadConf, requirePrevResult, sourceAddresses } from './net-conf.ts';
import { doRoutes, doRoutesWithTable, type Undo } from './routing.ts';
import { withLockedSandbox } from './sandbox.ts';

/**
 * ADD: source-based routing for the addresses the previous plugin put on `CNI_IFNAME`, so that
 * traffic from them leaves by that interface. Upstream leaves a half-done ADD as it is; here every
 * rule and route added is removed, and every route moved is put back, when a step fails.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const result = requirePrevResult(conf);
  const sources = sourceAddresses(result, request.ifName);
  await withLockedSandbox(request.netns, async (nl) => {
    const undo: Undo[] = [];
    try {
      if (conf.table !== undefined) await doRoutesWithTable(nl, sources, conf.table, undo);
      else await doRoutes(nl, sources, request.ifName, conf, undo);
    } catch (error) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw error;
    }
  });
  return request.prevResult!;
}
