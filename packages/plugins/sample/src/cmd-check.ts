// SPDX-License-Identifier: Apache-2.0
import { PREV_RESULT_MISSING, type CheckRequest } from '@cni/skel';
import { requireAddresses, requireNetns } from './cmd-add.ts';
import { loadConf } from './net-conf.ts';

/** CHECK: what ADD needed is still there (`required prevResult missing`, code 7, as every plugin). */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  loadConf(request);
  requireAddresses(request.prevResult, PREV_RESULT_MISSING);
  requireNetns(request.netns);
  // Check here that what ADD did is still in place.
}
