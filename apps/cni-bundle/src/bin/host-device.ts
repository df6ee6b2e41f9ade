// SPDX-License-Identifier: Apache-2.0
// `host-device`: run as the executable, or in-process as the delegate of another bundled plugin.
import type { PluginIo } from '@cni/skel';
import { hostDevice } from '@cni/plugin-host-device';
import { runBundled } from '../runtime/run.ts';

/** Run `host-device` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(hostDevice, io);
}
