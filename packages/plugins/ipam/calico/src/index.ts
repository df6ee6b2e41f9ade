// SPDX-License-Identifier: Apache-2.0
/**
 * calico-ipam: the plugin, and the library under it (etcd client, Calico's IPAM data model,
 * pools, allocation and release, GC, usage), usable without the plugin.
 *
 * @packageDocumentation
 */
export { calicoIpam } from './calico-ipam.ts';
export { DEFAULT_GC_GRACE_SECONDS, DEFAULT_LOCK_FILE, DEFAULT_NODENAME_FILE, SUPPORTED_DATASTORES, handleIdOf, loadConf } from './net-conf.ts';
export type { CalicoIpamConf } from './net-conf.ts';

export { EtcdClient, EtcdError, prefixEnd } from './lib/etcd.ts';
export type { Compare, EtcdErrorKind, EtcdOptions, KeyValue, Operation, RangeRead, TxnOptions } from './lib/etcd.ts';
export { IpamError } from './lib/errors.ts';
export type { IpamErrorKind } from './lib/errors.ts';
export { CalicoIpam } from './lib/ipam.ts';
export type { Assignment, AutoAssignArgs, EffectiveIpamConfig } from './lib/ipam.ts';
export {
  ATTR_NAMESPACE,
  ATTR_NODE,
  ATTR_POD,
  ATTR_TIMESTAMP,
  IPAM_CONFIG_KEY,
  IPAM_ROOT,
  IPPOOL_PREFIX,
  affinityKey,
  affinityPrefix,
  blockHandles,
  blockHost,
  blockInUse,
  blockKey,
  blockPrefix,
  cidrKeyPart,
  cidrOfKey,
  decodeAffinity,
  decodeBlock,
  decodeHandle,
  encodeAffinity,
  encodeBlock,
  encodeHandle,
  freeOrdinals,
  goTimestamp,
  handleKey,
  ipToOrdinal,
  newBlock,
  ordinalToIp,
  parseTimestamp,
  releaseHandle,
  takeOrdinals,
} from './lib/model.ts';
export type { AllocationAttribute, AllocationBlock, BlockAffinity, IpamConfig, IpamHandle, IpPoolResource } from './lib/model.ts';
export { DEFAULT_BLOCK_SIZE, choosePools, createPool, deletePool, listPools, poolsOf, setPoolDisabled, validatePoolSpec } from './lib/pools.ts';
export type { IpPool, PoolSpec } from './lib/pools.ts';
export { collectGarbage } from './lib/gc.ts';
export type { GcOptions, GcReport } from './lib/gc.ts';
export { readUsage } from './lib/usage.ts';
export type { BlockUsage, PoolUsage, Usage } from './lib/usage.ts';
export { CLI_COMMANDS, CLI_USAGE, runCli } from './cli.ts';
