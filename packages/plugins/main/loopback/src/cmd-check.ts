// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';
import { openSandbox } from '@cni/link';
import { LOOPBACK } from './net-conf.ts';

/** CHECK: `lo` must be up, which is all upstream's loopback verifies. */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  loadConf(request);
  const nl = await openSandbox(request.netns);
  try {
    const link = await nl.link.get({ name: LOOPBACK });
    if (!link.up) throw new Error('loopback interface is down');
  } finally {
    nl.close();
  }
}
