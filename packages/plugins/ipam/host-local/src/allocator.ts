// SPDX-License-Identifier: Apache-2.0
import { formatCidr, type IpAddress } from '@cni/ip';
import {
  allocationOrder,
  hostLocalError,
  rangeFor,
  rangeSetCapacity,
  rangeSetToString,
  rangeContains,
  type RangeSet,
} from './range-set.ts';
import { type DiskStore, type Lease } from './store.ts';

/** An address handed out: `address` in CIDR notation with the subnet's prefix, and the range's gateway. */
export interface Allocation {
  /** `10.1.2.5/24`. */
  readonly address: string;
  /** The range's gateway. */
  readonly gateway: string;
  /** The address alone. */
  readonly ip: IpAddress;
  /** Index of the range set it came from. */
  readonly rangeSet: number;
}

/** An attachment, as GC's `cni.dev/valid-attachments` names one. */
export interface Attachment {
  readonly containerId: string;
  readonly ifName: string;
}

function checkOwner(containerId: string, ifName: string): void {
  // The lease file's two lines: a line break inside either would forge another owner.
  if (/[\r\n]/.test(containerId) || /[\r\n]/.test(ifName) || containerId.trim() === '') {
    throw hostLocalError(`invalid attachment "${containerId}"/"${ifName}"`);
  }
}

/**
 * host-local's allocation over a {@link DiskStore}, as upstream's `IPAllocator` for each range
 * set, with the whole ADD (every set, and the rollback on failure) under one hold of the lock.
 *
 * @example
 * ```ts
 * const store = DiskStore.open('/var/lib/cni/networks', 'mynet');
 * const allocator = new HostLocalAllocator(store);
 * const [first] = await allocator.allocate(config.ranges, [], 'c1', 'eth0');
 * first.address; // '10.1.2.2/24'
 * ```
 */
export class HostLocalAllocator {
  readonly #store: DiskStore;

  constructor(store: DiskStore) {
    this.#store = store;
  }

  /**
   * One address from every range set for the attachment: a requested address inside the set
   * exactly, otherwise the next free one after `last_reserved_ip.N`. On any failure every
   * address this call reserved is released again.
   *
   * @throws CniError code 999 with upstream's texts: `failed to allocate for range N: ...`,
   * `failed to allocate all requested IPs: ...`.
   */
  async allocate(ranges: readonly RangeSet[], requested: readonly IpAddress[], containerId: string, ifName: string): Promise<Allocation[]> {
    checkOwner(containerId, ifName);
    return this.#store.withLock(() => {
      const pending = new Map(requested.map((ip) => [ip.toString(), ip]));
      const done: Allocation[] = [];
      const rollback = (): void => {
        for (const allocation of done) {
          this.#store.release({ ip: allocation.ip, file: allocation.ip.toString(), containerId: containerId.trim(), ifName });
        }
      };
      for (const [index, set] of ranges.entries()) {
        let wanted: IpAddress | undefined;
        for (const [key, ip] of pending) {
          if (rangeFor(set, ip) !== undefined) {
            wanted = ip;
            pending.delete(key);
            break;
          }
        }
        try {
          done.push(this.#allocateInSet(set, index, containerId, ifName, wanted));
        } catch (error) {
          rollback();
          throw hostLocalError(`failed to allocate for range ${index}: ${(error as Error).message}`);
        }
      }
      if (pending.size > 0) {
        rollback();
        throw hostLocalError(`failed to allocate all requested IPs: ${[...pending.keys()].join(' ')}`);
      }
      return done;
    });
  }

  #allocateInSet(set: RangeSet, index: number, containerId: string, ifName: string, wanted: IpAddress | undefined): Allocation {
    const store = this.#store;
    const rangeId = String(index);
    if (wanted !== undefined) {
      const range = rangeFor(set, wanted);
      if (range === undefined) throw hostLocalError(`${wanted.toString()} not in range set ${rangeSetToString(set)}`);
      if (wanted.equals(range.gateway)) throw hostLocalError(`requested ip ${wanted.toString()} is subnet's gateway`);
      if (!store.reserve(containerId, ifName, wanted, rangeId)) {
        throw hostLocalError(`requested IP address ${wanted.toString()} is not available in range set ${rangeSetToString(set)}`);
      }
      return allocation(wanted, range.subnet.prefix, range.gateway, index);
    }
    for (const lease of store.ownedBy(containerId, ifName)) {
      if (rangeFor(set, lease.ip) !== undefined) {
        throw hostLocalError(`${lease.ip.toString()} has been allocated to ${containerId}, duplicate allocation is not allowed`);
      }
    }
    for (const { ip, range } of allocationOrder(set, store.lastReservedIp(rangeId))) {
      if (store.isReserved(ip)) continue;
      if (store.reserve(containerId, ifName, ip, rangeId)) return allocation(ip, range.subnet.prefix, range.gateway, index);
    }
    throw hostLocalError(`no IP addresses available in range set: ${rangeSetToString(set)}`);
  }

  /**
   * Release the attachment's addresses (or, when it has none, upstream's legacy files holding
   * only its container ID). Releasing an unknown attachment succeeds with an empty list.
   */
  async release(containerId: string, ifName: string): Promise<Lease[]> {
    return this.#store.withLock(() => this.#store.releaseBy(containerId, ifName));
  }

  /** The attachment's leases (legacy files included), as CHECK looks them up. */
  async owned(containerId: string, ifName: string): Promise<Lease[]> {
    return this.#store.withLock(() => this.#store.ownedBy(containerId, ifName));
  }

  /**
   * Release every lease whose attachment is not in `valid` (a legacy file, holding only a
   * container ID, is kept when some valid attachment has that ID). Reads the whole folder.
   */
  async gc(valid: readonly Attachment[]): Promise<Lease[]> {
    const keep = new Set(valid.map((a) => `${a.containerId.trim()}\r\n${a.ifName}`));
    const keepIds = new Set(valid.map((a) => a.containerId.trim()));
    return this.#store.withLock(() => {
      const released: Lease[] = [];
      for (const lease of this.#store.scan()) {
        const kept =
          lease.ifName === undefined ? keepIds.has(lease.containerId) : keep.has(`${lease.containerId}\r\n${lease.ifName}`);
        if (!kept && this.#store.release(lease)) released.push(lease);
      }
      return released;
    });
  }

  /** For each range set, how many addresses are free (capacity minus the leases inside it). */
  async free(ranges: readonly RangeSet[]): Promise<bigint[]> {
    return this.#store.withLock(() => {
      const leases = this.#store.leases();
      return ranges.map((set) => {
        let used = 0n;
        for (const lease of leases) {
          const range = rangeFor(set, lease.ip);
          if (range !== undefined && !(rangeContains(range, range.gateway) && lease.ip.equals(range.gateway))) used++;
        }
        const free = rangeSetCapacity(set) - used;
        return free < 0n ? 0n : free;
      });
    });
  }
}

function allocation(ip: IpAddress, prefix: number, gateway: IpAddress, rangeSet: number): Allocation {
  return { address: formatCidr(ip, prefix), gateway: gateway.toString(), ip, rangeSet };
}
