// SPDX-License-Identifier: Apache-2.0
// `tap`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { tap } from '@cni/plugin-tap';
import { runBundled } from '../runtime/run.ts';

/** Run `tap` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(tap, io);
}
