// SPDX-License-Identifier: Apache-2.0
import { applyIptablesBatch, Iptables, IptablesBatch, type IpFamily, type IptablesOptions } from '@cni/netfilter';
import type { IngressPolicy } from './net-conf.ts';

const FILTER = 'filter';
/** Upstream's isolation chains, shared with Docker's naming: FORWARD → STAGE-1 → STAGE-2. */
export const ISOLATION_STAGE_1 = 'CNI-ISOLATION-STAGE-1';
export const ISOLATION_STAGE_2 = 'CNI-ISOLATION-STAGE-2';

const DEFAULT_COMMENT = 'CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)';
const withComment = (rule: string[], comment: string) => [...rule, '-m', 'comment', '--comment', comment];
const policyComment = (policy: string) => `CNI firewall plugin rules (ingressPolicy: ${policy})`;

/** The rules of the isolation chains for one bridge, as upstream writes them: [chain, rule, prepend]. */
export function isolationRules(bridge: string, policy: Exclude<IngressPolicy, 'open'>): [chain: string, rule: string[], prepend: boolean][] {
  const rules: [string, string[], boolean][] = [
    ['FORWARD', withComment(['-j', ISOLATION_STAGE_1], DEFAULT_COMMENT), true],
    [ISOLATION_STAGE_1, withComment(['-i', bridge, '!', '-o', bridge, '-j', ISOLATION_STAGE_2], policyComment(policy)), true],
  ];
  if (policy === 'isolated') rules.push([ISOLATION_STAGE_1, withComment(['-i', bridge, '-o', bridge, '-j', 'DROP'], policyComment(policy)), true]);
  rules.push(
    [ISOLATION_STAGE_1, withComment(['-j', 'RETURN'], DEFAULT_COMMENT), false],
    [ISOLATION_STAGE_2, withComment(['-o', bridge, '-j', 'DROP'], DEFAULT_COMMENT), true],
    [ISOLATION_STAGE_2, withComment(['-j', 'RETURN'], DEFAULT_COMMENT), false],
  );
  return rules;
}

/**
 * same-bridge: traffic from other bridges' containers to this bridge is dropped; isolated: also
 * between containers of this bridge. The bridge is prevResult's first interface (chain firewall
 * after bridge). Written for the families of prevResult's addresses; never removed, as upstream
 * (other containers of the bridge rely on them).
 */
export async function setupIngressPolicy(policy: IngressPolicy, bridge: string | undefined, families: readonly IpFamily[], options: IptablesOptions = {}): Promise<void> {
  if (policy === 'open') return;
  if (!bridge) {
    throw new Error(`interface needs to be set for ingress policy "${policy}", make sure to chain "firewall" plugin with "bridge"`);
  }
  for (const family of new Set(families)) {
    // One listing and one atomic restore, whatever the number of rules.
    await applyIptablesBatch(new Iptables(family, options), FILTER, (snapshot) => {
      const batch = new IptablesBatch(snapshot);
      batch.ensureChain(ISOLATION_STAGE_1);
      batch.ensureChain(ISOLATION_STAGE_2);
      for (const [chain, rule, prepend] of isolationRules(bridge, policy)) {
        if (prepend) batch.insertUnique(chain, rule);
        else batch.appendUnique(chain, rule);
      }
      return batch;
    });
  }
}

/** CHECK of the isolation rules (beyond upstream, which checks none). */
export async function checkIngressPolicy(policy: IngressPolicy, bridge: string | undefined, families: readonly IpFamily[], options: IptablesOptions = {}): Promise<void> {
  if (policy === 'open' || !bridge) return;
  for (const family of new Set(families)) {
    const ipt = new Iptables(family, options);
    for (const [chain, rule] of isolationRules(bridge, policy)) {
      if (!(await ipt.exists(FILTER, chain, rule))) throw new Error(`expected ${chain} rule "${rule.join(' ')}" not found in ${ipt.command}`);
    }
  }
}
