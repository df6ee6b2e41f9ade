// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';

/**
 * The sbr (source-based routing) meta plugin. Everything it makes lives in the container's
 * namespace and goes with it, so GC and STATUS succeed as no-ops. Keys and behaviour:
 * docs/plugins/meta/sbr.md.
 */
export const sbr = definePlugin({
  name: 'sbr',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
});
