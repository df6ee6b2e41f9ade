// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';
import { cmdStatus } from './cmd-status.ts';

/**
 * calico-ipam: cluster-wide IP pools on etcd v3 in Calico's data model (blocks affine to nodes,
 * handles, compare-and-swap writes). Keys and behaviour: docs/plugins/ipam/calico-ipam.md.
 *
 * @example
 * ```ts
 * import { runPlugin } from '@cni/skel';
 * import { calicoIpam } from '@cni/ipam-calico';
 * process.exitCode = await runPlugin(calicoIpam);
 * ```
 */
export const calicoIpam = definePlugin({
  name: 'calico-ipam',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
  status: cmdStatus,
});
