// SPDX-License-Identifier: Apache-2.0
// `tuning`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { tuning } from '@cni/plugin-tuning';
import { runBundled } from '../runtime/run.ts';

/** Run `tuning` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(tuning, io);
}
