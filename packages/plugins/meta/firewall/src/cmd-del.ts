// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { getBackend } from './backend.ts';
import { currentPrevResult, loadConf, resultAddresses } from './net-conf.ts';

/**
 * DEL: the rules (or zone sources) of prevResult's addresses. Without prevResult (the runtime's
 * DEL after a failed or killed ADD) upstream does nothing; the iptables backend finds the
 * attachment's addresses in its owner records instead. The isolation rules stay: the bridge's
 * other containers use them.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const addresses = resultAddresses(currentPrevResult(request));
  await (await getBackend(conf, request)).del(addresses);
}
