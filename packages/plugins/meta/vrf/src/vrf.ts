// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { versionsStartingFrom } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/**
 * The vrf meta plugin (chained): puts the interface of the previous plugin into a VRF of the
 * container, created on first use and removed with its last member, keeping the interface's
 * addresses and routes. Spec versions 0.3.1 and later, as upstream. It keeps nothing on the host:
 * GC and STATUS have nothing to do. Keys and behaviour: docs/plugins/meta/vrf.md.
 */
export const vrf = definePlugin({
  name: 'vrf',
  versions: versionsStartingFrom('0.3.1'),
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
});
