// SPDX-License-Identifier: Apache-2.0
// IPPool resources (projectcalico.org/v3) in etcd: read, create, enable and disable.
import { randomUUID } from 'node:crypto';
import { type Cidr, parseCidr } from '@cni/ip';
import type { EtcdClient, KeyValue } from './etcd.ts';
import { IpamError } from './errors.ts';
import { IPPOOL_PREFIX, type IpPoolResource } from './model.ts';

/** A pool as the allocator uses it. */
export interface IpPool {
  name: string;
  cidr: Cidr;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  /** The stored resource, kept whole so that a rewrite loses none of Calico's fields. */
  resource: IpPoolResource;
  modRevision: string;
}

/** Calico's default block sizes: /26 for IPv4, /122 for IPv6. */
export const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;

/** What `createPool` takes. */
export interface PoolSpec {
  name: string;
  cidr: string;
  blockSize?: number;
  disabled?: boolean;
  natOutgoing?: boolean;
  nodeSelector?: string;
}

function toPool(resource: IpPoolResource, modRevision: string): IpPool {
  const cidr = parseCidr(resource.spec.cidr).masked();
  return {
    name: resource.metadata.name,
    cidr,
    blockSize: resource.spec.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family],
    disabled: resource.spec.disabled === true,
    nodeSelector: resource.spec.nodeSelector ?? 'all()',
    resource,
    modRevision,
  };
}

/** Every IPPool in the datastore; unreadable entries are skipped. */
export async function listPools(client: EtcdClient): Promise<IpPool[]> {
  return poolsOf(await client.list(IPPOOL_PREFIX));
}

/** The pools of IPPool keys read under {@link IPPOOL_PREFIX}; unreadable entries are skipped. */
export function poolsOf(kvs: readonly KeyValue[]): IpPool[] {
  const pools: IpPool[] = [];
  for (const kv of kvs) {
    try {
      pools.push(toPool(JSON.parse(kv.value) as IpPoolResource, kv.modRevision));
    } catch {
      // Not a pool we can read (another version's format): not ours to use.
    }
  }
  return pools;
}

/** Check a pool spec as Calico's validator does (block size range, CIDR holds a block, name). */
export function validatePoolSpec(spec: PoolSpec): Cidr {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(spec.name)) throw new IpamError('invalid', `pool name "${spec.name}" is not a valid resource name`);
  let cidr: Cidr;
  try {
    cidr = parseCidr(spec.cidr);
  } catch {
    throw new IpamError('invalid', `pool ${spec.name}: cidr "${spec.cidr}" is not a CIDR`);
  }
  if (!cidr.isNetwork) throw new IpamError('invalid', `pool ${spec.name}: cidr "${spec.cidr}" has host bits set (use ${cidr.masked().toString()})`);
  const blockSize = spec.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family];
  const [min, max] = cidr.family === 4 ? [20, 32] : [116, 128];
  if (!Number.isInteger(blockSize) || blockSize < min || blockSize > max) {
    throw new IpamError('invalid', `pool ${spec.name}: blockSize ${blockSize} is outside [${min}, ${max}] for IPv${cidr.family}`);
  }
  if (blockSize < cidr.prefix) throw new IpamError('invalid', `pool ${spec.name}: blockSize /${blockSize} is larger than the pool ${cidr.toString()}`);
  return cidr;
}

/** Create a pool; refused when the name exists or the CIDR overlaps another pool. */
export async function createPool(client: EtcdClient, spec: PoolSpec): Promise<IpPool> {
  const cidr = validatePoolSpec(spec);
  for (const pool of await listPools(client)) {
    if (pool.cidr.family === cidr.family && pool.cidr.overlaps(cidr)) {
      throw new IpamError('invalid', `pool ${spec.name}: ${cidr.toString()} overlaps pool ${pool.name} (${pool.cidr.toString()})`);
    }
  }
  const resource: IpPoolResource = {
    kind: 'IPPool',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: spec.name, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    spec: {
      cidr: cidr.toString(),
      vxlanMode: 'Never',
      ipipMode: 'Never',
      natOutgoing: spec.natOutgoing ?? false,
      blockSize: spec.blockSize ?? DEFAULT_BLOCK_SIZE[cidr.family],
      nodeSelector: spec.nodeSelector ?? 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    },
  };
  if (spec.disabled) resource.spec.disabled = true;
  const key = IPPOOL_PREFIX + spec.name;
  const revision = await client.txnRevision([{ key, absent: true }], [{ put: key, value: JSON.stringify(resource) }]);
  if (revision === undefined) throw new IpamError('conflict', `pool ${spec.name} exists`);
  return toPool(resource, revision);
}

/** Enable or disable a pool: a disabled pool gives no new address; those it gave stay. */
export async function setPoolDisabled(client: EtcdClient, name: string, disabled: boolean): Promise<void> {
  const key = IPPOOL_PREFIX + name;
  for (;;) {
    const kv = await client.get(key);
    if (!kv) throw new IpamError('no-pool', `pool ${name} does not exist`);
    const resource = JSON.parse(kv.value) as IpPoolResource;
    if (disabled) resource.spec.disabled = true;
    else delete resource.spec.disabled;
    if (await client.txn([{ key, modRevision: kv.modRevision }], [{ put: key, value: JSON.stringify(resource) }])) return;
  }
}

/** Delete a pool's resource (its blocks stay until their addresses are released). */
export async function deletePool(client: EtcdClient, name: string): Promise<void> {
  await client.delete(IPPOOL_PREFIX + name);
}

/**
 * The enabled pools of `family` this request may use: those `requested` names (by pool name or
 * CIDR, as Calico's `ResolvePools`), or every enabled one matching the node when none are named.
 */
export function choosePools(pools: readonly IpPool[], family: 4 | 6, requested: readonly string[]): IpPool[] {
  const ofFamily = pools.filter((pool) => pool.cidr.family === family);
  if (requested.length === 0) {
    const usable = ofFamily.filter((pool) => !pool.disabled && selectsEveryNode(pool.nodeSelector));
    if (usable.length === 0) throw new IpamError('no-pool', `no enabled IPv${family} pool (pools: ${ofFamily.map((p) => `${p.name}${p.disabled ? ' (disabled)' : ''}`).join(', ') || 'none'})`);
    return usable;
  }
  const chosen: IpPool[] = [];
  for (const entry of requested) {
    const byCidr = (() => {
      try {
        const cidr = parseCidr(entry);
        return ofFamily.find((pool) => pool.cidr.equals(cidr.masked()));
      } catch {
        return undefined;
      }
    })();
    const pool = byCidr ?? ofFamily.find((p) => p.name === entry);
    if (!pool) throw new IpamError('no-pool', `the given pool (${entry}) does not exist`);
    if (pool.disabled) throw new IpamError('no-pool', `the requested pool ${pool.name} (${pool.cidr.toString()}) is disabled`);
    chosen.push(pool);
  }
  return chosen;
}

/** Node selectors: only the ones that select every node are understood here (`all()` or empty). */
function selectsEveryNode(selector: string): boolean {
  const text = selector.trim();
  return text === '' || text === 'all()';
}
