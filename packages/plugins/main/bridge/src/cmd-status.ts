// SPDX-License-Identifier: Apache-2.0
import type { StatusRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';

/** STATUS: ready when the IPAM plugin is (its error passed on unchanged); always ready without one. */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const conf = loadConf(request);
  if (conf.isLayer3) await request.delegate(conf.ipam!.type);
}
