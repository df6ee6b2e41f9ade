// SPDX-License-Identifier: Apache-2.0
import { openNetlink } from '@cni/netlink';
import type { AddRequest } from '@cni/skel';
import type { Result } from '@cni/spec';
import { findHostVeth } from './host-veth.ts';
import { requireChainedResult, isZero, loadConf } from './net-conf.ts';
import { openSandbox } from '@cni/link';
import { createEgressQdisc, createIngressQdisc, deleteLinkIfExists, ifbAlias, ifbName } from './shaping.ts';

/**
 * ADD: a TBF on the host veth for traffic to the container, and for traffic from it an ifb
 * (`bwp<hash>`, MTU of the veth, txqlen 0, up) fed by a mirred redirect from the veth's ingress
 * qdisc, with its own TBF. The ifb is appended to the result's interfaces. Whatever a failing ADD
 * made is removed again.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const { bandwidth } = conf;
  if (isZero(bandwidth) && conf.parsedPrevResult) return conf.parsedPrevResult;
  const result = requireChainedResult(conf.parsedPrevResult);

  const container = await openSandbox(request.netns);
  const host = await openNetlink();
  try {
    const hostVeth = await findHostVeth(host, container, request.ifName, result.interfaces ?? []);
    const ifb = ifbName(conf.name, request.containerId);
    // What this ADD made, undone in reverse when a later step fails; qdiscs that were there before stay.
    const undo: (() => Promise<void>)[] = [];
    try {
      if (bandwidth.ingressRate > 0) {
        await createIngressQdisc(host, hostVeth, bandwidth.ingressRate, bandwidth.ingressBurst);
        undo.push(() => host.qdisc.del({ name: hostVeth }, { parent: 'root', handle: '1:' }));
      }
      if (bandwidth.egressRate > 0) {
        const { mtu } = await host.link.get({ name: hostVeth });
        await host.link.add({ kind: 'ifb', name: ifb, mtu, txQueueLen: 0, up: true, alias: ifbAlias(conf.name, request.containerId) });
        undo.push(() => deleteLinkIfExists(host, ifb));
        const created = await host.link.get({ name: ifb });
        result.interfaces = [...(result.interfaces ?? []), { name: ifb, ...(created.mac ? { mac: created.mac } : {}) }];
        await host.qdisc.add({ name: hostVeth }, { kind: 'ingress' });
        undo.push(() => host.qdisc.del({ name: hostVeth }, { kind: 'ingress' }));
        await createEgressQdisc(host, hostVeth, ifb, bandwidth.egressRate, bandwidth.egressBurst);
      }
    } catch (error) {
      for (const step of undo.reverse()) await step().catch(() => undefined);
      throw error;
    }
  } finally {
    host.close();
    container.close();
  }
  return result;
}
