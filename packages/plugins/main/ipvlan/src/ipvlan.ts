// SPDX-License-Identifier: Apache-2.0
import { definePlugin, type GcRequest, type StatusRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, ipamTypeOf } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/** STATUS and GC go to the IPAM plugin; a chained ipvlan without IPAM has nothing to ask. */
async function toIpam(request: StatusRequest | GcRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

/**
 * The ipvlan plugin: an ipvlan link (l2, l3 or l3s) on a master (the default-route interface
 * unless named, or prevResult's interface when chained), placed in the container as CNI_IFNAME
 * with IPAM's addresses or prevResult's. STATUS and GC go to the IPAM plugin: the link lives and
 * dies with the container's namespace, so there is no host state of its own to collect. Keys and
 * behaviour: docs/plugins/main/ipvlan.md.
 */
export const ipvlan = definePlugin({
  name: 'ipvlan',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: toIpam,
  gc: toIpam,
});
