// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { loadConf, requirePrevResult, sourceAddresses } from './net-conf.ts';
import { FIRST_TABLE } from './net-conf.ts';
import { hostPrefix } from './routing.ts';
import { withLockedSandbox } from './sandbox.ts';

/**
 * CHECK (upstream's always succeeds): each address of the previous result on `CNI_IFNAME` must
 * have its rule, `from <ip>/32|/128 lookup <table>` (the fixed table, or one from 100 on), and in
 * the default mode that table must route by the interface.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const sources = sourceAddresses(requirePrevResult(conf), request.ifName);
  await withLockedSandbox(request.netns, async (nl) => {
    const link = await nl.link.get({ name: request.ifName });
    for (const source of sources) {
      const from = hostPrefix(source);
      const rule = (await nl.rule.list(source.family)).find((candidate) => candidate.from === from && (conf.table !== undefined ? candidate.table === conf.table : candidate.table >= FIRST_TABLE));
      if (!rule) throw new Error(`no source-based routing rule for "${from}"`);
      if (conf.table === undefined) {
        const routes = await nl.route.list({ family: source.family, table: rule.table });
        if (!routes.some((route) => route.linkIndex === link.index)) throw new Error(`table ${rule.table} of "${from}" has no route by "${request.ifName}"`);
      }
    }
  });
}
