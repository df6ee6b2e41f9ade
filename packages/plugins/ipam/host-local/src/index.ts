// SPDX-License-Identifier: Apache-2.0
/**
 * The host-local IPAM plugin and its parts: configuration, range sets, the on-disk store and
 * the allocator, usable in-process.
 *
 * @packageDocumentation
 */
export { hostLocal } from './plugin.ts';

export { HostLocalAllocator } from './allocator.ts';
export type { Allocation, Attachment } from './allocator.ts';

export { DEFAULT_DATA_DIR, loadHostLocalConfig } from './config.ts';
export type { HostLocalConfig, HostLocalConfigInput, RouteConfig } from './config.ts';

export {
  allocationOrder,
  canonicalizeRange,
  canonicalizeRangeSet,
  hostLocalError,
  rangeContains,
  rangeFor,
  rangeSetCapacity,
  rangeSetToString,
  rangeSetsOverlap,
  rangeToString,
} from './range-set.ts';
export type { AddressRange, RangeConfig, RangeSet } from './range-set.ts';

export { DiskStore, LAST_RESERVED_PREFIX, LINE_BREAK, LOCK_FILE, ownerKey } from './store.ts';
export type { Lease } from './store.ts';

export { parseResolvConf } from './resolv.ts';
