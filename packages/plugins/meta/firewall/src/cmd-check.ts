// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { getBackend } from './backend.ts';
import { checkIngressPolicy } from './ingress-policy.ts';
import { currentPrevResult, loadConf, resultAddresses } from './net-conf.ts';

/** CHECK: the backend's rules (or zone sources) for every prevResult address, and the isolation rules. */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request.conf);
  const result = currentPrevResult(request);
  if (result === undefined) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing prevResult from earlier plugin');
  const addresses = resultAddresses(result);
  await (await getBackend(conf, request)).check(addresses);
  await checkIngressPolicy(conf.ingressPolicy, result.interfaces?.[0]?.name, addresses.map((address) => address.family));
}
