// SPDX-License-Identifier: Apache-2.0
// `multinet`: its attachments' plugins run in this process when CNI_PATH finds ours, as
// executables otherwise.
import { createMultinet } from '@cni/multinet';
import type { PluginIo } from '@cni/skel';
import { bundlePluginExec } from '../runtime/plugin-exec.ts';
import { runBundled } from '../runtime/run.ts';

/** Run `multinet` with the process's io, or with `io` as an in-process delegate. */
export function run(io?: PluginIo): Promise<number> {
  return runBundled(createMultinet(io === undefined ? { exec: bundlePluginExec() } : { exec: bundlePluginExec(), env: io.env }), io);
}
