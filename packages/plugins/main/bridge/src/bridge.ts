// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';
import { cmdStatus } from './cmd-status.ts';

/**
 * The bridge plugin: containers attached to a Linux bridge through veth pairs, with optional
 * gateway, masquerading, VLANs, hairpin, port isolation and MAC spoof checking. Keys and
 * behaviour: docs/plugins/main/bridge.md.
 */
export const bridge = definePlugin({
  name: 'bridge',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
  status: cmdStatus,
});
