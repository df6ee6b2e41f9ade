// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { openSandboxForDel } from '@cni/link';
import { moveLinkOut } from './move-link.ts';
import { loadConf } from './net-conf.ts';
import type { SysfsOptions } from './sysfs.ts';

/**
 * DEL: release the lease, then move the device back to the host under its original name (left
 * down). Idempotent beyond upstream: the lease is released also without CNI_NETNS, and a namespace
 * already gone (a physical device then returned to the initial namespace by itself) or a device
 * no longer in the container is success.
 */
export async function cmdDel(request: DelRequest, options: SysfsOptions = {}): Promise<void> {
  const conf = loadConf(request, options);
  if (conf.ipamType !== '') await request.delegate(conf.ipamType);
  if (conf.dpdkMode) return;
  const container = await openSandboxForDel(request.netns);
  if (!container) return;
  try {
    if (!(await container.link.find({ name: request.ifName }))) return;
    await moveLinkOut(container, request.netns, request.ifName);
  } finally {
    container.close();
  }
}
