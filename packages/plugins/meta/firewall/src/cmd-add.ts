// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, type Result } from '@cni/spec';
import { getBackend } from './backend.ts';
import { setupIngressPolicy } from './ingress-policy.ts';
import { currentPrevResult, loadConf, resultAddresses } from './net-conf.ts';

/**
 * ADD: the backend lets traffic from and replies to each prevResult address through FORWARD, then
 * the ingress policy's isolation rules; prevResult passes through. A failure takes the address
 * rules back.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const result = currentPrevResult(request);
  if (request.prevResult === undefined || result === undefined) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'missing prevResult from earlier plugin');
  }
  const addresses = resultAddresses(result);
  const backend = await getBackend(conf, request);
  await backend.add(addresses);
  try {
    await setupIngressPolicy(conf.ingressPolicy, result.interfaces?.[0]?.name, addresses.map((address) => address.family));
  } catch (error) {
    await backend.del(addresses).catch(() => {});
    throw error;
  }
  return request.prevResult;
}
