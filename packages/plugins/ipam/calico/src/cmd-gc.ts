// SPDX-License-Identifier: Apache-2.0
import type { GcRequest } from '@cni/skel';
import { collectGarbage } from './lib/gc.ts';
import { withIpam } from './internal/session.ts';
import { loadConf } from './net-conf.ts';

function keptContainers(request: GcRequest): Set<string> {
  const conf = request.conf as unknown as Record<string, unknown>;
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'];
  const keep = new Set<string>();
  if (!Array.isArray(list)) return keep;
  for (const entry of list as { containerID?: unknown }[]) if (typeof entry?.containerID === 'string') keep.add(entry.containerID);
  return keep;
}

/**
 * GC (CNI 1.1): release this node's handles of this network whose container is not in
 * `cni.dev/valid-attachments` and whose allocation is older than `ipam.gc_grace_seconds`, then
 * this node's blocks left empty and affinities left pending by interrupted claims.
 */
export async function cmdGc(request: GcRequest): Promise<void> {
  const conf = loadConf(request);
  await withIpam(conf, (ipam) =>
    collectGarbage(ipam, { handlePrefix: `${conf.name}.`, keep: keptContainers(request), graceMs: conf.gcGraceSeconds * 1000 }),
  );
}
