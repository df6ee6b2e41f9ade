// SPDX-License-Identifier: Apache-2.0
import { parseIpOrCidr } from '@cni/ip';
import type { CheckRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { withIpam } from './internal/session.ts';
import { handleIdOf, loadConf } from './net-conf.ts';

/**
 * CHECK: the handle holds addresses, and every address of prevResult is one of them (and every
 * one of them is in prevResult).
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const handleId = handleIdOf(conf.name, request.containerId);
  const held = await withIpam(conf, (ipam) => ipam.addressesOf(handleId), { lock: false });
  if (held.length === 0) throw new CniError(CNI_ERROR_CODES.INTERNAL, `calico-ipam: no address allocated to handle ${handleId}`);
  const heldText = new Set(held.map((a) => a.ip.toString()));
  const prev = request.prevResult as { ips?: { address: string }[] } | undefined;
  if (!prev) return;
  const prevText = new Set<string>();
  for (const ip of prev.ips ?? []) {
    const parsed = parseIpOrCidr(ip.address);
    const text = 'prefix' in parsed ? parsed.address.toString() : parsed.toString();
    prevText.add(text);
    if (!heldText.has(text)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `calico-ipam: ${ip.address} of prevResult is not allocated to handle ${handleId} (it holds ${[...heldText].join(', ')})`);
  }
  for (const text of heldText) {
    if (!prevText.has(text)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `calico-ipam: handle ${handleId} holds ${text}, which prevResult does not list`);
  }
}
