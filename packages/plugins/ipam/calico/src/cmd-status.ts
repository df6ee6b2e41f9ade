// SPDX-License-Identifier: Apache-2.0
import type { StatusRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { EtcdError } from './lib/etcd.ts';
import { IpamError } from './lib/errors.ts';
import { CalicoIpam } from './lib/ipam.ts';
import { choosePools, listPools } from './lib/pools.ts';
import { readUsage } from './lib/usage.ts';
import { clientOf } from './internal/session.ts';
import { loadConf } from './net-conf.ts';

/**
 * STATUS: code 50 while no etcd member answers, while a family to assign has no enabled pool,
 * or while the pools of a family have no free address left.
 */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const conf = loadConf(request);
  const client = clientOf(conf, { operationTimeoutMs: 3000 });
  try {
    await client.status();
    const pools = await listPools(client);
    const usage = await readUsage(new CalicoIpam(client, conf.nodename));
    const families: [4 | 6, string[]][] = [];
    if (conf.assignIpv4) families.push([4, conf.ipv4Pools]);
    if (conf.assignIpv6) families.push([6, conf.ipv6Pools]);
    for (const [family, names] of families) {
      const chosen = choosePools(pools, family, names);
      const free = chosen.reduce((n, pool) => n + (usage.pools.find((u) => u.name === pool.name)?.free ?? 0n), 0n);
      if (free === 0n) {
        throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `calico-ipam: IPv${family} pools exhausted: no free address in ${chosen.map((p) => `${p.name} (${p.cidr.toString()})`).join(', ')}`);
      }
    }
  } catch (error) {
    if (error instanceof CniError) throw error;
    if (error instanceof EtcdError && error.kind !== 'server' && error.kind !== 'config') throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `calico-ipam: ${error.message}`);
    if (error instanceof IpamError) throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `calico-ipam: ${error.message}`);
    throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `calico-ipam: ${(error as Error).message}`);
  }
}
