// SPDX-License-Identifier: Apache-2.0
import { definePlugin, type GcRequest, type StatusRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, ipamTypeOf } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/** STATUS and GC go to the IPAM plugin: the tap lives in the container, nothing of it on the host. */
async function forwardToIpam(request: StatusRequest | GcRequest): Promise<void> {
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

/**
 * The tap plugin: a tap device inside the container as CNI_IFNAME (for a VM runtime to open), on
 * a bridge of the container when named, with IPAM's addresses or L2 only. Keys and behaviour:
 * docs/plugins/main/tap.md.
 */
export const tap = definePlugin({
  name: 'tap',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: forwardToIpam,
  gc: forwardToIpam,
});
