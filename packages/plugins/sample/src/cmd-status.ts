// SPDX-License-Identifier: Apache-2.0
import type { StatusRequest } from '@cni/skel';
import { ipamTypeOf } from '@cni/spec';
import { loadConf } from './net-conf.ts';

/** STATUS: ready for ADD when what we depend on is; a delegated IPAM plugin answers for itself. */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const conf = loadConf(request);
  const ipamType = ipamTypeOf(conf);
  if (ipamType !== '') await request.delegate(ipamType);
}
