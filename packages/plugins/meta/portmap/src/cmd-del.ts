// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { resolveMapper } from './backend.ts';
import { loadConf } from './net-conf.ts';

/**
 * DEL: the container's rules in both address families of the backend; nothing to do without
 * port mappings (as upstream) or when the rules are already gone.
 */
export async function cmdDel(request: DelRequest): Promise<void> {
  const conf = loadConf(request.conf);
  if (conf.portMappings.length === 0) return;
  await (await resolveMapper(conf)).unforwardPorts(conf.name, request.containerId);
}
