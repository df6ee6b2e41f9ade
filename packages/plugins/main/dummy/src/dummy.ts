// SPDX-License-Identifier: Apache-2.0
import { ipamGc, ipamStatus } from '@cni/ipam';
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/**
 * The dummy plugin: a dummy link inside the container as CNI_IFNAME, addressed by the (required)
 * IPAM plugin. STATUS and GC go to the IPAM plugin: a dummy keeps nothing on the host, it lives
 * and dies with the container's namespace. Keys and behaviour: docs/plugins/main/dummy.md.
 */
export const dummy = definePlugin({
  name: 'dummy',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: ipamStatus,
  gc: ipamGc,
});
