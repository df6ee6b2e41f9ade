// SPDX-License-Identifier: Apache-2.0
// `sbr`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { sbr } from '@cni/plugin-sbr';
import { runBundled } from '../runtime/run.ts';

/** Run `sbr` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(sbr, io);
}
