// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/**
 * The loopback plugin: `lo` up inside the container on ADD, down on DEL, checked on CHECK. It
 * reads no configuration key and keeps nothing on the host, so GC and STATUS succeed as no-ops.
 * Keys and behaviour: docs/plugins/main/loopback.md.
 */
export const loopback = definePlugin({
  name: 'loopback',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
});
