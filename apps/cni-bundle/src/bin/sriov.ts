// SPDX-License-Identifier: Apache-2.0
// `sriov`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { sriov } from '@cni/plugin-sriov';
import { runBundled } from '../runtime/run.ts';

/** Run `sriov` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(sriov, io);
}
