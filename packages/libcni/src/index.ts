// SPDX-License-Identifier: Apache-2.0
export { LibcniError, ConfigError, NetworkNotFoundError, PluginError, MultiError, errorText, errorCode } from './errors.ts';
export type { LibcniErrorOptions, PluginAction } from './errors.ts';

export {
  pluginConfFromBytes,
  confListFromBytes,
  confFiles,
  pluginConfsFromFiles,
  confListFromFile,
  loadConf,
  confListFromConf,
  loadConfList,
  loadAllConfLists,
} from './conf.ts';
export type { PluginConfig, NetworkConfigList } from './conf.ts';

export { findInPath, pluginEnv, pluginFailure, RawExec, execInProcess, decodeVersionInfo } from './invoke.ts';
export type {
  InvokeArgs,
  ExecOptions,
  PluginExec,
  TextSink,
  RawExecOptions,
  InProcessIo,
  InProcessPlugins,
  PluginInfo,
} from './invoke.ts';

export {
  DEFAULT_CACHE_DIR,
  CNI_CACHE_V1,
  cacheFilePath,
  cacheRecord,
  writeCache,
  deleteCache,
  readCachedResult,
  readCachedConfig,
  listCachedAttachments,
} from './cache.ts';
export type { RuntimeConf, CacheFileV1, NetworkAttachment } from './cache.ts';

export { CniConfig, buildOneConfig, unknownCapabilities, WELL_KNOWN_CAPABILITIES } from './cni-config.ts';
export type { CniConfigOptions, CallOptions, GcArgs } from './cni-config.ts';
