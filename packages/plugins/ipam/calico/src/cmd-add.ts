// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import type { ResultV100 } from '@cni/spec';
import type { Assignment, CalicoIpam } from './lib/ipam.ts';
import { ATTR_NAMESPACE, ATTR_NODE, ATTR_POD, ATTR_TIMESTAMP, goTimestamp } from './lib/model.ts';
import { withIpam } from './internal/session.ts';
import { type CalicoIpamConf, handleIdOf, loadConf } from './net-conf.ts';

function attributesOf(conf: CalicoIpamConf): Record<string, string> {
  const attrs: Record<string, string> = { [ATTR_NODE]: conf.nodename, [ATTR_TIMESTAMP]: goTimestamp(new Date()) };
  if (conf.pod !== undefined) {
    attrs[ATTR_POD] = conf.pod;
    attrs[ATTR_NAMESPACE] = conf.namespace ?? '';
  }
  return attrs;
}

async function assign(ipam: CalicoIpam, conf: CalicoIpamConf, handleId: string): Promise<{ address: string }[]> {
  const attrs = attributesOf(conf);
  const got: { assignment: Assignment; prefix: number }[] = [];
  try {
    if (conf.requested.length > 0) {
      for (const ip of conf.requested) got.push({ assignment: await ipam.assignIp(ip, { handleId, attrs }), prefix: ip.bits });
    } else {
      if (conf.assignIpv4) {
        const a = await ipam.autoAssign({ family: 4, handleId, attrs, pools: conf.ipv4Pools });
        got.push({ assignment: a, prefix: a.block.prefix });
      }
      if (conf.assignIpv6) {
        const a = await ipam.autoAssign({ family: 6, handleId, attrs, pools: conf.ipv6Pools });
        got.push({ assignment: a, prefix: a.block.prefix });
      }
    }
  } catch (error) {
    // A failed ADD keeps nothing: half of a dual-stack request (Calico's rollback), and also an
    // address whose transaction was applied though its answer was lost (an etcd timeout) and
    // that only the handle knows of.
    await ipam.releaseByHandle(handleId).catch(() => undefined);
    throw error;
  }
  return got.map(({ assignment, prefix }) => ({ address: `${assignment.ip.toString()}/${prefix}` }));
}

/**
 * ADD: one address per family asked for (`assign_ipv4`, default on; `assign_ipv6`, default off)
 * from this node's blocks of the chosen pools, or the requested addresses (`runtimeConfig.ips`,
 * CNI_ARGS `IP`). Addresses carry their block's prefix, as Calico's; requested ones /32 or /128.
 */
export async function cmdAdd(request: AddRequest): Promise<ResultV100> {
  const conf = loadConf(request);
  const handleId = handleIdOf(conf.name, request.containerId);
  const ips = await withIpam(conf, (ipam) => assign(ipam, conf, handleId));
  return { cniVersion: '1.1.0', ips };
}
