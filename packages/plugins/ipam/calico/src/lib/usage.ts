// SPDX-License-Identifier: Apache-2.0
// Usage per pool, block and node: what `calicoctl ipam show` reports.
import { blockHost, blockInUse } from './model.ts';
import type { CalicoIpam } from './ipam.ts';
import { listPools } from './pools.ts';

/** One block's usage. */
export interface BlockUsage {
  cidr: string;
  pool: string | undefined;
  node: string | undefined;
  size: number;
  inUse: number;
}

/** One pool's usage. */
export interface PoolUsage {
  name: string;
  cidr: string;
  disabled: boolean;
  size: bigint;
  inUse: number;
  /** Addresses no block holds yet plus the free ones in blocks. */
  free: bigint;
  blocks: number;
}

/** Usage of every pool, block and node. */
export interface Usage {
  pools: PoolUsage[];
  blocks: BlockUsage[];
  nodes: Record<string, { blocks: number; inUse: number }>;
}

/** Read the whole IPAM state once and sum it up. */
export async function readUsage(ipam: CalicoIpam): Promise<Usage> {
  const [pools, reads] = await Promise.all([listPools(ipam.client), ipam.blocks()]);
  const blocks: BlockUsage[] = reads.map(({ cidr, block }) => ({
    cidr: cidr.toString(),
    pool: pools.find((p) => p.cidr.containsCidr(cidr))?.name,
    node: blockHost(block),
    size: block.allocations.length,
    inUse: blockInUse(block),
  }));
  const poolUsage: PoolUsage[] = pools.map((pool) => {
    const mine = blocks.filter((b) => b.pool === pool.name);
    const inUse = mine.reduce((n, b) => n + b.inUse, 0);
    return { name: pool.name, cidr: pool.cidr.toString(), disabled: pool.disabled, size: pool.cidr.size, inUse, free: pool.cidr.size - BigInt(inUse), blocks: mine.length };
  });
  const nodes: Usage['nodes'] = {};
  for (const block of blocks) {
    const node = block.node ?? '(none)';
    nodes[node] ??= { blocks: 0, inUse: 0 };
    nodes[node].blocks += 1;
    nodes[node].inUse += block.inUse;
  }
  return { pools: poolUsage, blocks, nodes };
}
