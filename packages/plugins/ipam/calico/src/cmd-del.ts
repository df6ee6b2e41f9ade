// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { withIpam } from './internal/session.ts';
import { handleIdOf, loadConf } from './net-conf.ts';

/**
 * DEL: release the attachment's handle (`<network>.<containerID>`), as Calico's plugin does; a
 * handle that is not there is success. Needs neither the netns nor the pod's namespace.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request);
  await withIpam(conf, async (ipam) => {
    await ipam.releaseByHandle(handleIdOf(conf.name, request.containerId));
  });
}
