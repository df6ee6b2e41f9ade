// SPDX-License-Identifier: Apache-2.0
import { ipamGc, ipamStatus } from '@cni/ipam';
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/**
 * The vlan plugin: an 802.1Q link with `vlanId` on `master` (of the host, or of the container with
 * `linkInContainer`), placed in the container as CNI_IFNAME with IPAM's addresses. STATUS and GC
 * go to the IPAM plugin: the link lives and dies with the container's namespace. Keys and
 * behaviour: docs/plugins/main/vlan.md.
 */
export const vlan = definePlugin({
  name: 'vlan',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: ipamStatus,
  gc: ipamGc,
});
