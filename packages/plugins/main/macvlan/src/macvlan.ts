// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc, cmdStatus } from './cmd-status.ts';

/**
 * The macvlan plugin: a macvlan link on a master (the default-route interface unless named),
 * placed in the container as CNI_IFNAME, with IPAM's addresses or L2 only. STATUS and GC go to
 * the IPAM plugin. Keys and behaviour: docs/plugins/main/macvlan.md.
 */
export const macvlan = definePlugin({
  name: 'macvlan',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: cmdStatus,
  gc: cmdGc,
});
