// SPDX-License-Identifier: Apache-2.0
import { definePlugin, type GcRequest, type StatusRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, ipamTypeOf } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/** STATUS and GC go to the IPAM plugin; an L2-only bond has nothing to ask. */
async function toIpam(request: StatusRequest | GcRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

/**
 * The bond plugin, after k8snetworkplumbingwg/bond-cni: a bond named CNI_IFNAME in the container
 * over `links` taken from the host (and given back on DEL) or already in the container, with
 * IPAM's addresses. Keys and behaviour: docs/plugins/main/bond.md.
 */
export const bond = definePlugin({
  name: 'bond',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: toIpam,
  gc: toIpam,
});
