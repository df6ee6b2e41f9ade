// SPDX-License-Identifier: Apache-2.0
// `vlan`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { vlan } from '@cni/plugin-vlan';
import { runBundled } from '../runtime/run.ts';

/** Run `vlan` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(vlan, io);
}
