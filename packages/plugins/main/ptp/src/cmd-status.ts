// SPDX-License-Identifier: Apache-2.0
import type { StatusRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';

/** STATUS: ready when the IPAM plugin is, as upstream (its error is passed on unchanged). */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const conf = loadConf(request.conf);
  await request.delegate(conf.ipam.type);
}
