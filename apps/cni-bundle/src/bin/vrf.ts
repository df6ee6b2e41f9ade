// SPDX-License-Identifier: Apache-2.0
// `vrf`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { vrf } from '@cni/plugin-vrf';
import { runBundled } from '../runtime/run.ts';

/** Run `vrf` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(vrf, io);
}
