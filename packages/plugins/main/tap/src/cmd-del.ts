// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { deleteSandboxLink, temporaryLinkName } from '@cni/link';
import { loadConf } from './net-conf.ts';

/**
 * DEL: release the lease, then delete the device. Idempotent: no namespace, a namespace already
 * gone and a device already gone all succeed.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  if (conf.ipamType !== '') await request.delegate(conf.ipamType);
  // Also the device of an ADD killed before its rename, under its temporary name.
  await deleteSandboxLink(request.netns, request.ifName, { leftover: temporaryLinkName('tap', `${request.containerId}/${request.ifName}`) });
}
