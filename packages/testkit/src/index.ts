// SPDX-License-Identifier: Apache-2.0
export { TestkitError, CommandError, LeakError } from './errors.ts';

export { run, exec, netnsName } from './exec.ts';
export type { NetnsRef, RunOptions, RunResult } from './exec.ts';

export { registerTeardown } from './cleanup.ts';
export type { FixtureScope } from './cleanup.ts';

export { useTempDir } from './tempdir.ts';

export { NETNS_RUN_DIR, UPLINK_ADDRESSES, DEFAULT_WATCHED_FOLDERS, createNetns, deleteNetns, useTestNetns } from './netns.ts';
export type { TestNamespace, TestNetns, TestNetnsOptions } from './netns.ts';

export {
  addVethPair,
  addBridge,
  setMaster,
  setLinkUp,
  addAddress,
  deleteLink,
  addRoute,
  setSysctl,
  readSysctl,
  waitForIpv6Dad,
} from './links.ts';
export type { VethEnd, VethOptions, BridgeOptions } from './links.ts';

export {
  ipJson,
  tcJson,
  readLinks,
  readLink,
  readAddresses,
  readAddressList,
  readRoutes,
  readRules,
  readNeighbours,
  readQdiscs,
  readNftRuleset,
  readNftTables,
  readIptablesSave,
  parseIptablesSave,
} from './readers.ts';
export type {
  IpLink,
  IpAddrInfo,
  IpAddrLink,
  IpRoute,
  IpRule,
  IpNeigh,
  TcObject,
  NftObject,
  IpFamily,
  IptablesTable,
} from './readers.ts';

export { takeSnapshot, findLeaks, expectNoLeaks, readNamespaceState } from './snapshot.ts';
export type { StateSnapshot, NamespaceState, SnapshotOptions, LeakOptions } from './snapshot.ts';

export { execPlugin, findPlugin, runInProcess, pluginEnv, pluginStdin, parsePluginOutput } from './plugin.ts';
export type { CniCommand, PluginErrorJson, PluginRunOptions, PluginRunResult, CapturedIo } from './plugin.ts';

export { createChain, execRunner, inProcessRunner, PluginFailedError } from './chain.ts';
export type { Chain, ChainConfList, ChainOptions, PluginRunner } from './chain.ts';

export { fuzzCases, formatPath, jsonTypeOf, pathsOf, WRONG_TYPES, ODD_NUMBERS, ODD_STRINGS, BAD_ADDRESSES, BAD_VARIABLES } from './fuzz/mutate.ts';
export type { FuzzCase, FuzzCaseOptions, JsonPath } from './fuzz/mutate.ts';
export { runFuzzTarget } from './fuzz/run.ts';
export type { FuzzTarget, FuzzOutcome, FuzzReport } from './fuzz/run.ts';
