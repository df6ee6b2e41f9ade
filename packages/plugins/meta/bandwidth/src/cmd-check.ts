// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError, openNetlink, type Netlink } from '@cni/netlink';
import type { CheckRequest } from '@cni/skel';
import { findHostVeth } from './host-veth.ts';
import { requireChainedResult, isZero, loadConf } from './net-conf.ts';
import { openSandbox } from '@cni/link';
import { ifbName, rootTbf, tbfFor } from './shaping.ts';

async function checkTbf(nl: Netlink, link: string, rateBits: number, burstBits: number): Promise<void> {
  const tbf = rootTbf(await nl.qdisc.list({ name: link }));
  if (!tbf?.tbf) throw new Error(`failed to find the tbf qdisc of "${link}"`);
  const want = tbfFor(rateBits, burstBits);
  if (tbf.tbf.rate !== want.rate) throw new Error(`rate of the tbf qdisc of "${link}" is ${tbf.tbf.rate} bytes/s, configured ${want.rate}`);
  if (tbf.tbf.limit !== want.limit) throw new Error(`limit of the tbf qdisc of "${link}" is ${tbf.tbf.limit} bytes, configured ${want.limit}`);
  // The kernel keeps the bucket as time at this rate: allow the rounding of one tick (64 ns).
  if (Math.abs(tbf.tbf.burst - want.burst) > Math.max(1, (want.rate * 64) / 1e9)) {
    throw new Error(`burst of the tbf qdisc of "${link}" is ${tbf.tbf.burst} bytes, configured ${want.burst}`);
  }
}

/**
 * CHECK: the TBF on the host veth (ingress) and on the ifb (egress) must have the configured rate,
 * limit and bucket, as upstream compares them; beyond upstream, the veth's redirect to the ifb too.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const result = requireChainedResult(conf.parsedPrevResult);
  const container = await openSandbox(request.netns);
  const host = await openNetlink();
  try {
    const hostVeth = await findHostVeth(host, container, request.ifName, result.interfaces ?? []);
    const { bandwidth } = conf;
    if (isZero(bandwidth)) return;
    if (bandwidth.ingressRate > 0) await checkTbf(host, hostVeth, bandwidth.ingressRate, bandwidth.ingressBurst);
    if (bandwidth.egressRate > 0) {
      const ifb = ifbName(conf.name, request.containerId);
      let ifbIndex: number;
      try {
        ifbIndex = (await host.link.get({ name: ifb })).index;
      } catch (error) {
        if (LinkNotFoundError.isInstance(error)) throw new Error(`get ifb device "${ifb}": link not found`, { cause: error });
        throw error;
      }
      await checkTbf(host, ifb, bandwidth.egressRate, bandwidth.egressBurst);
      const filters = await host.filter.list({ name: hostVeth }, 'ffff:');
      if (!filters.some((filter) => filter.mirredIndex === ifbIndex)) throw new Error(`no redirect from "${hostVeth}" to "${ifb}"`);
    }
  } finally {
    host.close();
    container.close();
  }
}
