// SPDX-License-Identifier: Apache-2.0
// `bandwidth`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { bandwidth } from '@cni/plugin-bandwidth';
import { runBundled } from '../runtime/run.ts';

/** Run `bandwidth` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(bandwidth, io);
}
