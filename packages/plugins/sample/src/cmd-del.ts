// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';

/**
 * DEL is best effort and idempotent: the sandbox may be gone, and DEL may run twice. Only a
 * configuration we cannot read is an error, as upstream's sample has it.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  loadConf(request);
  // Undo here what ADD did, ignoring what is already gone.
}
