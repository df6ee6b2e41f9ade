// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';
import { cmdStatus } from './cmd-status.ts';

/**
 * The ptp plugin: per container a veth pair, the container routed point to point through the
 * host, optionally masqueraded. Keys and behaviour: docs/plugins/main/ptp.md.
 */
export const ptp = definePlugin({
  name: 'ptp',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
  status: cmdStatus,
});
