// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';

/**
 * The portmap plugin: `runtimeConfig.portMappings` forwarded from host ports to the container,
 * with hairpin and localhost access, through iptables or nftables. Keys and behaviour:
 * docs/plugins/meta/portmap.md.
 */
export const portmap = definePlugin({
  name: 'portmap',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
});
