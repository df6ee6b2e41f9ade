// SPDX-License-Identifier: Apache-2.0
// Calico's allocation protocol on etcd (libcalico-go/lib/ipam): a node takes addresses from the
// blocks affine to it, claims a new block through a pending affinity confirmed in the same
// transaction that creates the block, and borrows from other blocks when strict affinity is off.
// Every write of a block is a compare-and-swap on its mod revision, together with its handle.
import { type Cidr, type IpAddress, ipAdd, parseCidr } from '@cni/ip';
import type { Compare, EtcdClient, KeyValue, Operation } from './etcd.ts';
import { IpamError } from './errors.ts';
import {
  type AllocationBlock,
  affinityKey,
  affinityPrefix,
  blockHandles,
  blockHost,
  blockInUse,
  blockKey,
  blockPrefix,
  cidrOfKey,
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  handleKey,
  IPAM_CONFIG_KEY,
  type IpamConfig,
  IPPOOL_PREFIX,
  type IpamHandle,
  ipToOrdinal,
  newBlock,
  ordinalToIp,
  releaseHandle,
  takeOrdinals,
} from './model.ts';
import { choosePools, type IpPool, listPools, poolsOf } from './pools.ts';

/** One address given to a handle. */
export interface Assignment {
  ip: IpAddress;
  /** The block it came from. */
  block: Cidr;
  /** The pool it came from. */
  pool: string;
}

/** The global IPAM settings with Calico's defaults applied. */
export interface EffectiveIpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  maxBlocksPerHost: number;
}

/** What {@link CalicoIpam.autoAssign} takes. */
export interface AutoAssignArgs {
  family: 4 | 6;
  handleId: string;
  /** Calico's `secondary` attributes: `node`, `timestamp`, and `pod`/`namespace` when known. */
  attrs: Record<string, string>;
  /** Pool names or CIDRs; empty for every enabled pool of the family. */
  pools?: readonly string[];
}

// A CAS that keeps losing means a busy block; the loop is bounded so a bug cannot spin forever.
const MAX_ATTEMPTS = 64;

interface BlockRead {
  kv: KeyValue;
  block: AllocationBlock;
  cidr: Cidr;
}

/** The IPAM config a read of {@link IPAM_CONFIG_KEY} gives, with Calico's defaults when absent. */
function configOf(kv: KeyValue | undefined): EffectiveIpamConfig {
  if (!kv) return { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
  const raw = JSON.parse(kv.value) as IpamConfig;
  return { strictAffinity: raw.strict_affinity === true, autoAllocateBlocks: raw.auto_allocate_blocks === true, maxBlocksPerHost: raw.maxBlocksPerHost ?? 0 };
}

/** A node's affinities from the keys under its affinity prefix: block CIDR and state. */
function affinitiesOf(kvs: readonly KeyValue[]): { cidr: Cidr; state: string; kv: KeyValue }[] {
  const out: { cidr: Cidr; state: string; kv: KeyValue }[] = [];
  for (const kv of kvs) {
    const cidr = cidrOfKey(kv.key);
    if (cidr) out.push({ cidr, state: decodeAffinity(kv.value).state, kv });
  }
  return out;
}

// Per family and node, the blocks affine at this process's last allocation: read with the first
// exchange of the next one. Only a hint (a block no longer affine is read for nothing, a new one
// costs the usual second exchange); bounded, as a process serves a handful of nodes at most.
const blockHints = new Map<string, Cidr[]>();

function rememberHint(key: string, cidrs: Cidr[]): void {
  if (!blockHints.has(key) && blockHints.size >= 64) blockHints.delete(blockHints.keys().next().value!);
  blockHints.set(key, cidrs.slice(0, 16));
}

/** Small, stable hash of a node name: where a node starts looking for a free block in a pool. */
function nodeHash(node: string): number {
  let hash = 2166136261;
  for (let i = 0; i < node.length; i++) hash = Math.imul(hash ^ node.charCodeAt(i), 16777619) >>> 0;
  return hash;
}

/**
 * Calico IPAM for one node over an etcd client: allocate, release, inspect. The same data as
 * Calico's own plugin writes, so nodes running either share pools.
 *
 * @example
 * ```ts
 * const ipam = new CalicoIpam(new EtcdClient({ endpoints: ['http://127.0.0.1:2379'] }), 'node-1');
 * const [a] = await ipam.autoAssign({ family: 4, handleId: 'net.c1', attrs: { node: 'node-1' } });
 * await ipam.releaseByHandle('net.c1');
 * ```
 */
export class CalicoIpam {
  #prefetchedHandle: { id: string; kv: KeyValue | undefined } | null = null;

  constructor(
    readonly client: EtcdClient,
    readonly node: string,
  ) {}

  /** The stored IPAM config with Calico's defaults (strict affinity off, automatic blocks on, no limit). */
  async config(): Promise<EffectiveIpamConfig> {
    return configOf(await this.client.get(IPAM_CONFIG_KEY));
  }

  /** Write the IPAM config (the fields Calico leaves out when false/0 are left out). */
  async setConfig(config: EffectiveIpamConfig): Promise<void> {
    const raw: IpamConfig = {};
    if (config.strictAffinity) raw.strict_affinity = true;
    if (config.autoAllocateBlocks) raw.auto_allocate_blocks = true;
    if (config.maxBlocksPerHost) raw.maxBlocksPerHost = config.maxBlocksPerHost;
    await this.client.put(IPAM_CONFIG_KEY, JSON.stringify(raw));
  }

  async #readBlock(cidr: Cidr): Promise<BlockRead | undefined> {
    const kv = await this.client.get(blockKey(cidr));
    return kv ? { kv, block: decodeBlock(kv.value), cidr } : undefined;
  }

  /**
   * Write `block` (taken `ordinals` for `handleId`) and the handle in one transaction, on the
   * condition that neither changed since read. False when another writer came first.
   */
  async #commit(read: BlockRead | undefined, block: AllocationBlock, cidr: Cidr, handleId: string, count: number, extra: { compares?: Compare[]; ops?: Operation[] } = {}): Promise<boolean> {
    const hKey = handleKey(handleId);
    // The handle read with the first round of reads saves a round trip; later attempts read again.
    const prefetched = this.#prefetchedHandle;
    this.#prefetchedHandle = null;
    const handleKv = prefetched !== null && prefetched.id === handleId ? prefetched.kv : await this.client.get(hKey);
    const handle: IpamHandle = handleKv ? decodeHandle(handleKv.value) : { block: {}, deleted: false };
    handle.block[cidr.toString()] = (handle.block[cidr.toString()] ?? 0) + count;
    const compares: Compare[] = [
      read ? { key: read.kv.key, modRevision: read.kv.modRevision } : { key: blockKey(cidr), absent: true },
      handleKv ? { key: hKey, modRevision: handleKv.modRevision } : { key: hKey, absent: true },
      ...(extra.compares ?? []),
    ];
    const ops: Operation[] = [{ put: blockKey(cidr), value: encodeBlock(block) }, { put: hKey, value: encodeHandle(handle) }, ...(extra.ops ?? [])];
    // The handle is written by this ADD alone: finding our value there after a lost answer means applied.
    return this.client.txn(compares, ops, { witnesses: [hKey] });
  }

  /** Take one address from an existing block for the handle; undefined when it lost a race or the block is full. */
  async #assignFrom(read: BlockRead, args: AutoAssignArgs, wanted?: number): Promise<IpAddress | undefined | 'lost'> {
    const block = read.block;
    const taken = takeOrdinals(block, 1, args.handleId, args.attrs, wanted);
    if (taken.length === 0) return undefined;
    if (!(await this.#commit(read, block, read.cidr, args.handleId, 1))) return 'lost';
    return ordinalToIp(block, taken[0]!);
  }

  /**
   * Claim `cidr` for this node: a pending affinity first (visible to every reader as a claim in
   * progress), then one transaction that creates the block with the address taken, confirms the
   * affinity and records the handle. False when another node created the block first.
   */
  async #claim(cidr: Cidr, args: AutoAssignArgs, wanted?: number): Promise<IpAddress | undefined> {
    const aKey = affinityKey(this.node, cidr);
    let pendingRev = await this.client.txnRevision([{ key: aKey, absent: true }], [{ put: aKey, value: encodeAffinity('pending') }]);
    if (pendingRev === undefined) {
      // Our own affinity from an interrupted claim: take it over.
      const kv = await this.client.get(aKey);
      if (!kv) return undefined;
      pendingRev = kv.modRevision;
    }
    const block = newBlock(cidr, this.node);
    const taken = takeOrdinals(block, 1, args.handleId, args.attrs, wanted);
    const ok = await this.#commit(undefined, block, cidr, args.handleId, taken.length, {
      compares: [{ key: aKey, modRevision: pendingRev }],
      ops: [{ put: aKey, value: encodeAffinity('confirmed') }],
    });
    if (ok) return ordinalToIp(block, taken[0]!);
    // Lost the block to another node: withdraw our claim, unless something changed it meanwhile.
    await this.client.txn([{ key: aKey, modRevision: pendingRev }], [{ delete: aKey }]);
    return undefined;
  }

  /** This node's affinities of a family: block CIDR and state. */
  async affinities(family: 4 | 6): Promise<{ cidr: Cidr; state: string; kv: KeyValue }[]> {
    return affinitiesOf(await this.client.list(affinityPrefix(this.node, family)));
  }

  /** The blocks of `cidrs` in one exchange (undefined where a block does not exist). */
  async #readBlocks(cidrs: readonly Cidr[], serializable: boolean): Promise<(BlockRead | undefined)[]> {
    if (cidrs.length === 0) return [];
    const found = await this.client.readMany(
      cidrs.map((cidr) => ({ key: blockKey(cidr) })),
      { serializable },
    );
    return cidrs.map((cidr, index) => {
      const kv = found[index]![0];
      return kv ? { kv, block: decodeBlock(kv.value), cidr } : undefined;
    });
  }

  /**
   * One address of `args.family` for the handle, as Calico's `AutoAssign` for one address:
   * the node's affine blocks (fullest first), then a new block, then (strict affinity off) a
   * borrowed address from any block of the pools.
   */
  async autoAssign(args: AutoAssignArgs): Promise<Assignment> {
    // One exchange for what the common case needs (config, pools, affinities, handle), one for
    // the affine blocks, then the write. The first attempt reads the member's own copy (no round
    // to the leader): a read a few milliseconds stale only makes the compare-and-swap fail, and
    // the next attempts read through the leader.
    // A process that allocated for this node before (a resident worker) also reads the blocks
    // that were affine then, which saves the second exchange while they still are.
    const hintKey = `${args.family}/${this.node}`;
    const hinted = blockHints.get(hintKey) ?? [];
    const [configKvs, poolKvs, affinityKvs, handleKvs, ...hintedKvs] = await this.client.readMany(
      [
        { key: IPAM_CONFIG_KEY },
        { key: IPPOOL_PREFIX, prefix: true },
        { key: affinityPrefix(this.node, args.family), prefix: true },
        { key: handleKey(args.handleId) },
        ...hinted.map((cidr) => ({ key: blockKey(cidr) })),
      ],
      { serializable: true },
    );
    const config = configOf(configKvs![0]);
    const pools = choosePools(poolsOf(poolKvs!), args.family, args.pools ?? []);
    const firstAffinities = affinitiesOf(affinityKvs!);
    const handleKv = handleKvs![0];
    const hintedBlocks = new Map<string, BlockRead | undefined>(
      hinted.map((cidr, index) => {
        const kv = hintedKvs[index]![0];
        return [cidr.toString(), kv ? { kv, block: decodeBlock(kv.value), cidr } : undefined];
      }),
    );
    rememberHint(hintKey, firstAffinities.map((affinity) => affinity.cidr));
    const poolOf = (cidr: Cidr): IpPool | undefined => pools.find((pool) => pool.cidr.containsCidr(cidr));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      this.#prefetchedHandle = attempt === 0 ? { id: args.handleId, kv: handleKv } : null;
      // 1. Blocks affine to this node.
      const affinities = (attempt === 0 ? firstAffinities : await this.affinities(args.family)).filter((a) => poolOf(a.cidr) !== undefined);
      const reads: BlockRead[] = [];
      const affineBlocks =
        attempt === 0 && affinities.every((affinity) => hintedBlocks.has(affinity.cidr.toString()))
          ? affinities.map((affinity) => hintedBlocks.get(affinity.cidr.toString()))
          : await this.#readBlocks(
              affinities.map((affinity) => affinity.cidr),
              attempt === 0,
            );
      for (const [index, affinity] of affinities.entries()) {
        const read = affineBlocks[index];
        if (affinity.state === 'pending' || read === undefined || blockHost(read.block) !== this.node) {
          await this.#settleAffinity(affinity.cidr, affinity.kv, read);
          continue;
        }
        if (affinity.state === 'confirmed' && read.block.unallocated.length > 0) reads.push(read);
      }
      reads.sort((a, b) => a.block.unallocated.length - b.block.unallocated.length);
      let lost = false;
      for (const read of reads) {
        const ip = await this.#assignFrom(read, args);
        if (ip === 'lost') {
          lost = true;
          break;
        }
        if (ip) return { ip, block: read.cidr, pool: poolOf(read.cidr)!.name };
      }
      if (lost) continue;
      // 2. A new block.
      const confirmed = affinities.filter((a) => a.state === 'confirmed').length;
      const existing = new Set((await this.client.list(blockPrefix(args.family), { keysOnly: true })).map((kv) => kv.key));
      if (config.autoAllocateBlocks && (config.maxBlocksPerHost === 0 || confirmed < config.maxBlocksPerHost)) {
        const claimed = await this.#claimAny(pools, existing, args);
        if (claimed === 'lost') continue;
        if (claimed) return claimed;
      }
      // 3. Borrow.
      if (!config.strictAffinity) {
        const borrowed = await this.#borrow(pools, existing, args);
        if (borrowed === 'lost') continue;
        if (borrowed) return borrowed;
      }
      throw new IpamError(
        'exhausted',
        `no IPv${args.family} address available in pool${pools.length > 1 ? 's' : ''} ${pools.map((p) => `${p.name} (${p.cidr.toString()})`).join(', ')}` +
          (config.strictAffinity ? ' for this node (strict affinity: no borrowing)' : ''),
      );
    }
    throw new IpamError('conflict', `gave up after ${MAX_ATTEMPTS} conflicting writes on IPv${args.family} blocks`);
  }

  async #claimAny(pools: readonly IpPool[], existing: Set<string>, args: AutoAssignArgs): Promise<Assignment | undefined | 'lost'> {
    for (const pool of pools) {
      const blocks = 2 ** (pool.blockSize - pool.cidr.prefix);
      const step = 2n ** BigInt(pool.cidr.bits - pool.blockSize);
      // Nodes start at different places so that claims at the same moment rarely meet.
      const start = nodeHash(this.node) % blocks;
      for (let i = 0; i < blocks; i++) {
        const index = (start + i) % blocks;
        const cidr = parseCidr(`${ipAdd(pool.cidr.network, step * BigInt(index))!.toString()}/${pool.blockSize}`);
        if (existing.has(blockKey(cidr))) continue;
        const ip = await this.#claim(cidr, args);
        if (ip) return { ip, block: cidr, pool: pool.name };
        return 'lost';
      }
    }
    return undefined;
  }

  async #borrow(pools: readonly IpPool[], existing: Set<string>, args: AutoAssignArgs): Promise<Assignment | undefined | 'lost'> {
    for (const key of existing) {
      const cidr = cidrOfKey(key);
      const pool = cidr && pools.find((p) => p.cidr.containsCidr(cidr));
      if (!cidr || !pool) continue;
      const read = await this.#readBlock(cidr);
      if (!read || read.block.unallocated.length === 0) continue;
      const ip = await this.#assignFrom(read, args);
      if (ip === 'lost') return 'lost';
      if (ip) return { ip, block: cidr, pool: pool.name };
    }
    return undefined;
  }

  /**
   * Bring a pending or stale affinity of this node in line with its block: confirm it when the
   * block is ours (a claim interrupted after its transaction), drop it otherwise.
   */
  async #settleAffinity(cidr: Cidr, kv: KeyValue, read: BlockRead | undefined): Promise<void> {
    if (read && blockHost(read.block) === this.node) {
      await this.client.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ put: kv.key, value: encodeAffinity('confirmed') }]);
    } else {
      await this.client.txn([{ key: kv.key, modRevision: kv.modRevision }], [{ delete: kv.key }]);
    }
    void cidr;
  }

  /**
   * A specific address for the handle (Calico's `AssignIP`): it must lie in a pool and be free;
   * its block is claimed for this node when it does not exist yet.
   */
  async assignIp(ip: IpAddress, args: Omit<AutoAssignArgs, 'family' | 'pools'>): Promise<Assignment> {
    const pools = await listPools(this.client);
    const pool = pools.find((p) => p.cidr.family === ip.family && p.cidr.contains(ip));
    if (!pool) throw new IpamError('not-in-pool', `the requested address ${ip.toString()} is not in any configured pool`);
    if (pool.disabled) throw new IpamError('no-pool', `the requested address ${ip.toString()} is in pool ${pool.name}, which is disabled`);
    const cidr = parseCidr(`${ip.toString()}/${pool.blockSize}`).masked();
    const full: AutoAssignArgs = { ...args, family: ip.family };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = await this.#readBlock(cidr);
      if (!read) {
        const claimed = await this.#claim(cidr, full, Number(ip.value - cidr.network.value));
        if (claimed) return { ip, block: cidr, pool: pool.name };
        continue;
      }
      const ordinal = ipToOrdinal(read.block, ip)!;
      if (read.block.allocations[ordinal] !== null) {
        const attr = read.block.attributes[read.block.allocations[ordinal]!];
        throw new IpamError('in-use', `the requested address ${ip.toString()} is already in use (handle ${attr?.handle_id ?? '?'})`);
      }
      const got = await this.#assignFrom(read, full, ordinal);
      if (got !== 'lost' && got !== undefined) return { ip, block: cidr, pool: pool.name };
    }
    throw new IpamError('conflict', `gave up after ${MAX_ATTEMPTS} conflicting writes on block ${cidr.toString()}`);
  }

  /** The addresses a handle holds, read from its blocks. */
  async addressesOf(handleId: string): Promise<Assignment[]> {
    const kv = await this.client.get(handleKey(handleId));
    if (!kv) return [];
    const out: Assignment[] = [];
    for (const cidrText of Object.keys(decodeHandle(kv.value).block)) {
      const cidr = parseCidr(cidrText);
      const read = await this.#readBlock(cidr);
      if (!read) continue;
      const entry = blockHandles(read.block).get(handleId);
      for (const ordinal of entry?.ordinals ?? []) out.push({ ip: ordinalToIp(read.block, ordinal), block: cidr, pool: '' });
    }
    return out;
  }

  /**
   * Release every address of a handle (Calico's `ReleaseByHandle`); a handle that does not exist
   * is no error. Each block is written with the handle in one compare-and-swap. A block left empty
   * is deleted when no node owns it or its pool is gone or disabled. Returns the count released.
   */
  async releaseByHandle(handleId: string): Promise<number> {
    const hKey = handleKey(handleId);
    let released = 0;
    let pools: IpPool[] | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const handleKv = await this.client.get(hKey);
      if (!handleKv) return released;
      const handle = decodeHandle(handleKv.value);
      const cidrs = Object.keys(handle.block);
      if (cidrs.length === 0) {
        if (await this.client.txn([{ key: hKey, modRevision: handleKv.modRevision }], [{ delete: hKey }])) return released;
        continue;
      }
      const cidr = parseCidr(cidrs[0]!);
      const read = await this.#readBlock(cidr);
      delete handle.block[cidrs[0]!];
      const handleOp: Operation = Object.keys(handle.block).length === 0 ? { delete: hKey } : { put: hKey, value: encodeHandle(handle) };
      const compares: Compare[] = [{ key: hKey, modRevision: handleKv.modRevision }];
      const ops: Operation[] = [handleOp];
      let count = 0;
      if (read) {
        count = releaseHandle(read.block, handleId);
        compares.push({ key: read.kv.key, modRevision: read.kv.modRevision });
        if (count > 0) {
          pools ??= await listPools(this.client);
          const pool = pools.find((p) => p.cidr.containsCidr(cidr));
          const host = blockHost(read.block);
          if (blockInUse(read.block) === 0 && (host === undefined || !pool || pool.disabled)) {
            ops.push({ delete: read.kv.key });
            if (host !== undefined) ops.push({ delete: affinityKey(host, cidr) });
          } else {
            ops.push({ put: read.kv.key, value: encodeBlock(read.block) });
          }
        }
      }
      if (await this.client.txn(compares, ops)) released += count;
    }
    throw new IpamError('conflict', `gave up releasing handle ${handleId} after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** Every block of a family (or both), decoded. */
  async blocks(family?: 4 | 6): Promise<BlockRead[]> {
    const families: (4 | 6)[] = family ? [family] : [4, 6];
    const out: BlockRead[] = [];
    for (const f of families) {
      for (const kv of await this.client.list(blockPrefix(f))) {
        const cidr = cidrOfKey(kv.key);
        if (cidr) out.push({ kv, block: decodeBlock(kv.value), cidr });
      }
    }
    return out;
  }

  /**
   * Release this node's blocks that hold no address (block and affinity in one transaction), and
   * settle affinities left pending by interrupted claims. Returns the blocks released.
   */
  async releaseEmptyBlocks(): Promise<Cidr[]> {
    const released: Cidr[] = [];
    for (const family of [4, 6] as const) {
      for (const affinity of await this.affinities(family)) {
        const read = await this.#readBlock(affinity.cidr);
        if (affinity.state === 'pending' || !read || blockHost(read.block) !== this.node) {
          await this.#settleAffinity(affinity.cidr, affinity.kv, read);
          continue;
        }
        if (blockInUse(read.block) > 0) continue;
        const ok = await this.client.txn(
          [
            { key: read.kv.key, modRevision: read.kv.modRevision },
            { key: affinity.kv.key, modRevision: affinity.kv.modRevision },
          ],
          [{ delete: read.kv.key }, { delete: affinity.kv.key }],
        );
        if (ok) released.push(affinity.cidr);
      }
    }
    return released;
  }
}
