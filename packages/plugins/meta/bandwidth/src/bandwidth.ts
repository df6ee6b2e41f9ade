// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { versionsStartingFrom } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';

/**
 * The bandwidth meta plugin: token bucket shaping of a veth-attached container, both directions,
 * from spec 0.3.0 (it needs the interfaces of a chained result). Keys and behaviour:
 * docs/plugins/meta/bandwidth.md.
 */
export const bandwidth = definePlugin({
  name: 'bandwidth',
  versions: versionsStartingFrom('0.3.0'),
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
});
