// SPDX-License-Identifier: Apache-2.0
// `host-local`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { hostLocal } from '@cni/ipam-hostlocal';
import { runBundled } from '../runtime/run.ts';

/** Run `host-local` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(hostLocal, io);
}
