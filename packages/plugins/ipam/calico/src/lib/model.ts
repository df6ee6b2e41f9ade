// SPDX-License-Identifier: Apache-2.0
// Calico's IPAM objects as its etcdv3 backend stores them (libcalico-go/lib/backend/model):
// the same keys, the same JSON fields in the same order, so that Calico's own plugin and this
// one can share a datastore.
import { type Cidr, type IpAddress, ipAdd, parseCidr } from '@cni/ip';

/** The root of Calico's IPAM keys (`/calico/ipam/v2/`). */
export const IPAM_ROOT = '/calico/ipam/v2/';
/** Where IPPool resources live in etcd. */
export const IPPOOL_PREFIX = '/calico/resources/v3/projectcalico.org/ippools/';
/** The global IPAM configuration's key. */
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';

/** Calico's attribute names on an allocation (`model.IPAMBlockAttribute*`). */
export const ATTR_NODE = 'node';
export const ATTR_TIMESTAMP = 'timestamp';
export const ATTR_POD = 'pod';
export const ATTR_NAMESPACE = 'namespace';

/** A CIDR as it appears in a key: the `/` replaced by `-` (`10.0.0.0-26`, `fd00::-122`). */
export function cidrKeyPart(cidr: Cidr): string {
  return cidr.toString().replace('/', '-');
}

/** `/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26`. */
export function blockKey(cidr: Cidr): string {
  return `${IPAM_ROOT}assignment/ipv${cidr.family}/block/${cidrKeyPart(cidr)}`;
}

/** Every block of a family: `/calico/ipam/v2/assignment/ipv4/block/`. */
export function blockPrefix(family: 4 | 6): string {
  return `${IPAM_ROOT}assignment/ipv${family}/block/`;
}

/** `/calico/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26`. */
export function affinityKey(node: string, cidr: Cidr): string {
  return `${IPAM_ROOT}host/${node}/ipv${cidr.family}/block/${cidrKeyPart(cidr)}`;
}

/** A node's affinities of a family: `/calico/ipam/v2/host/<node>/ipv4/block/`. */
export function affinityPrefix(node: string, family: 4 | 6): string {
  return `${IPAM_ROOT}host/${node}/ipv${family}/block/`;
}

/** `/calico/ipam/v2/handle/<id>`. */
export function handleKey(handleId: string): string {
  return `${IPAM_ROOT}handle/${handleId}`;
}

/** The CIDR a block or affinity key names (its last part, `-` back to `/`). */
export function cidrOfKey(key: string): Cidr | undefined {
  const last = key.slice(key.lastIndexOf('/') + 1);
  const dash = last.lastIndexOf('-');
  if (dash < 0) return undefined;
  try {
    return parseCidr(`${last.slice(0, dash)}/${last.slice(dash + 1)}`);
  } catch {
    return undefined;
  }
}

/** `model.AllocationAttribute`: who owns an allocation. */
export interface AllocationAttribute {
  handle_id: string | null;
  secondary: Record<string, string> | null;
}

/** `model.AllocationBlock`, field for field. */
export interface AllocationBlock {
  cidr: string;
  /** `host:<node>`, or null for a block no node owns. */
  affinity: string | null;
  /** Per ordinal: the index of its attributes, null when free. */
  allocations: (number | null)[];
  /** Free ordinals, oldest-freed first. */
  unallocated: number[];
  attributes: AllocationAttribute[];
  sequenceNumber: number;
  sequenceNumberForAllocation: Record<string, number> | null;
  deleted: boolean;
  hostAffinity?: string;
}

/** `model.BlockAffinity`. */
export interface BlockAffinity {
  state: 'confirmed' | 'pending' | 'pendingDeletion';
  deleted: boolean;
}

/** `model.IPAMHandle`: the blocks a handle holds addresses in, with how many. */
export interface IpamHandle {
  block: Record<string, number>;
  deleted: boolean;
}

/** `model.IPAMConfig`; its fields are `omitempty` in Calico, so absent means false/0. */
export interface IpamConfig {
  strict_affinity?: boolean;
  auto_allocate_blocks?: boolean;
  maxBlocksPerHost?: number;
}

/** A projectcalico.org/v3 IPPool resource as the etcdv3 backend stores it. */
export interface IpPoolResource {
  kind: 'IPPool';
  apiVersion: 'projectcalico.org/v3';
  metadata: { name: string; uid?: string; creationTimestamp?: string; resourceVersion?: string; [key: string]: unknown };
  spec: {
    cidr: string;
    blockSize?: number;
    ipipMode?: string;
    vxlanMode?: string;
    natOutgoing?: boolean;
    disabled?: boolean;
    nodeSelector?: string;
    allowedUses?: string[];
    assignmentMode?: string;
    [key: string]: unknown;
  };
}

/** A new, empty block: every ordinal free in order, as Calico's `newBlock`. */
export function newBlock(cidr: Cidr, node: string | undefined): AllocationBlock {
  const size = Number(cidr.size);
  return {
    cidr: cidr.toString(),
    affinity: node === undefined ? null : `host:${node}`,
    allocations: new Array<null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

/** Serialise a block with Go's field order. */
export function encodeBlock(block: AllocationBlock): string {
  const ordered: Record<string, unknown> = {
    cidr: block.cidr,
    affinity: block.affinity,
    allocations: block.allocations,
    unallocated: block.unallocated,
    attributes: block.attributes.map((a) => ({ handle_id: a.handle_id, secondary: a.secondary })),
    sequenceNumber: block.sequenceNumber,
    sequenceNumberForAllocation: block.sequenceNumberForAllocation,
    deleted: block.deleted,
  };
  if (block.hostAffinity !== undefined) ordered['hostAffinity'] = block.hostAffinity;
  return JSON.stringify(ordered);
}

/** Read a stored block; Go writes `null` for an empty slice it never made. */
export function decodeBlock(text: string): AllocationBlock {
  const raw = JSON.parse(text) as Partial<AllocationBlock>;
  const block: AllocationBlock = {
    cidr: String(raw.cidr),
    affinity: raw.affinity ?? (raw.hostAffinity ? `host:${raw.hostAffinity}` : null),
    allocations: raw.allocations ?? [],
    unallocated: raw.unallocated ?? [],
    attributes: raw.attributes ?? [],
    sequenceNumber: raw.sequenceNumber ?? 0,
    sequenceNumberForAllocation: raw.sequenceNumberForAllocation ?? null,
    deleted: raw.deleted ?? false,
  };
  if (raw.hostAffinity !== undefined) block.hostAffinity = raw.hostAffinity;
  return block;
}

export function encodeAffinity(state: BlockAffinity['state']): string {
  return JSON.stringify({ state, deleted: false });
}

export function decodeAffinity(text: string): BlockAffinity {
  const raw = JSON.parse(text) as Partial<BlockAffinity>;
  // Affinities written before the state existed are confirmed ones.
  return { state: raw.state ?? 'confirmed', deleted: raw.deleted ?? false };
}

export function encodeHandle(handle: IpamHandle): string {
  return JSON.stringify({ block: handle.block, deleted: handle.deleted });
}

export function decodeHandle(text: string): IpamHandle {
  const raw = JSON.parse(text) as Partial<IpamHandle>;
  return { block: raw.block ?? {}, deleted: raw.deleted ?? false };
}

/** The node a block is affine to (`host:<node>`), or undefined. */
export function blockHost(block: AllocationBlock): string | undefined {
  return block.affinity?.startsWith('host:') ? block.affinity.slice(5) : undefined;
}

/** How many addresses of the block are taken. */
export function blockInUse(block: AllocationBlock): number {
  return block.allocations.reduce<number>((n, a) => (a === null ? n : n + 1), 0);
}

/** The address at `ordinal` in the block. */
export function ordinalToIp(block: AllocationBlock, ordinal: number): IpAddress {
  return ipAdd(parseCidr(block.cidr).network, ordinal)!;
}

/** The ordinal of `ip` in the block, or undefined outside it. */
export function ipToOrdinal(block: AllocationBlock, ip: IpAddress): number | undefined {
  const cidr = parseCidr(block.cidr);
  if (!cidr.contains(ip)) return undefined;
  return Number(ip.value - cidr.network.value);
}

/** Go's `time.Now().UTC().String()`, the format Calico's plugin writes in the `timestamp` attribute. */
export function goTimestamp(date: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const ms = date.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`;
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${frac} +0000 UTC`;
}

/** Parse a `timestamp` attribute (Go's time.String() or ISO 8601); undefined when unreadable. */
export function parseTimestamp(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const go = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? \+0000 UTC/.exec(text);
  const iso = go ? `${go[1]}T${go[2]}${go[3] ? go[3].slice(0, 4) : ''}Z` : text;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * Take `count` free ordinals from the front of `unallocated` for `handleId`, as Calico's
 * `autoAssign` on a block: one attributes entry shared by them, the sequence number recorded per
 * ordinal and the block's incremented. Returns the ordinals taken (fewer when the block is short).
 */
export function takeOrdinals(block: AllocationBlock, count: number, handleId: string, secondary: Record<string, string>, wanted?: number): number[] {
  const taken: number[] = [];
  if (wanted !== undefined) {
    const at = block.unallocated.indexOf(wanted);
    if (at < 0) return [];
    block.unallocated.splice(at, 1);
    taken.push(wanted);
  } else {
    while (taken.length < count && block.unallocated.length > 0) taken.push(block.unallocated.shift()!);
  }
  if (taken.length === 0) return taken;
  const attrIndex = block.attributes.length;
  block.attributes.push({ handle_id: handleId, secondary: { ...secondary } });
  block.sequenceNumberForAllocation ??= {};
  for (const ordinal of taken) {
    block.allocations[ordinal] = attrIndex;
    block.sequenceNumberForAllocation[String(ordinal)] = block.sequenceNumber;
  }
  block.sequenceNumber += 1;
  return taken;
}

/**
 * Free every ordinal of `handleId` in the block (Calico's `releaseByHandle` on a block): freed
 * ordinals go to the back of `unallocated`, attributes nobody points at are removed and the
 * indexes renumbered, the sequence number moves on. Returns how many were freed.
 */
export function releaseHandle(block: AllocationBlock, handleId: string): number {
  const freed: number[] = [];
  block.allocations.forEach((attr, ordinal) => {
    if (attr !== null && block.attributes[attr]?.handle_id === handleId) freed.push(ordinal);
  });
  return freeOrdinals(block, freed);
}

/** Free the given ordinals (those taken); see {@link releaseHandle}. */
export function freeOrdinals(block: AllocationBlock, ordinals: readonly number[]): number {
  let count = 0;
  for (const ordinal of ordinals) {
    if (block.allocations[ordinal] === null || block.allocations[ordinal] === undefined) continue;
    block.allocations[ordinal] = null;
    block.unallocated.push(ordinal);
    if (block.sequenceNumberForAllocation) delete block.sequenceNumberForAllocation[String(ordinal)];
    count++;
  }
  if (count === 0) return 0;
  // Drop attributes no allocation references, renumbering the rest.
  const used = new Set(block.allocations.filter((a): a is number => a !== null));
  const renumber = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  block.attributes.forEach((attr, index) => {
    if (!used.has(index)) return;
    renumber.set(index, kept.length);
    kept.push(attr);
  });
  block.attributes = kept;
  block.allocations = block.allocations.map((a) => (a === null ? null : renumber.get(a)!));
  block.sequenceNumber += 1;
  return count;
}

/** The handles holding addresses in the block, with their ordinals. */
export function blockHandles(block: AllocationBlock): Map<string, { ordinals: number[]; secondary: Record<string, string> | null }> {
  const out = new Map<string, { ordinals: number[]; secondary: Record<string, string> | null }>();
  block.allocations.forEach((attr, ordinal) => {
    if (attr === null) return;
    const attributes = block.attributes[attr];
    const id = attributes?.handle_id ?? '';
    const entry = out.get(id) ?? { ordinals: [], secondary: attributes?.secondary ?? null };
    entry.ordinals.push(ordinal);
    out.set(id, entry);
  });
  return out;
}
