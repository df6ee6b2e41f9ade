// SPDX-License-Identifier: Apache-2.0
export {
  CNI_ERROR_CODES,
  CniError,
  toCniError,
  isCniErrorJson,
  unsupportedFieldError,
  invalidConfigError,
} from './errors.ts';
export type { CniErrorCode, CniErrorName, CniErrorJson, CniErrorOptions } from './errors.ts';

export {
  ALL_SPEC_VERSIONS,
  CURRENT_SPEC_VERSION,
  isSpecVersion,
  compareVersions,
  effectiveVersion,
  specVersionHas,
  negotiateConfigVersion,
  highestCommonVersion,
  versionInfo,
  versionsStartingFrom,
  assertVersionSupported,
  assertVerbAllowed,
} from './version.ts';
export type { SpecVersion, SpecFeature, VersionInfo, GatedVerb } from './version.ts';

export type {
  Dns,
  IpamConfig,
  PortMapping,
  BandwidthEntry,
  IpRange,
  RuntimeConfig,
  GcAttachment,
  NetConf,
  PluginConf,
  NetConfList,
  NetConfWithResult,
} from './config.ts';

export {
  ConfigReader,
  ValueReader,
  configProblemsError,
  decodeConfig,
  describeProblem,
  dnsConfSet,
  ipamTypeOf,
  parseMacAddress,
} from './decode.ts';
export type { ConfigProblem, IntRange } from './decode.ts';

export { MAX_STDIN_BYTES, isValidName, parseNetConf, parseNetConfList, parsePrevResult } from './parse-config.ts';

export { convertResult, toCurrentResult, resultIps } from './result/convert.ts';
export { parseResult } from './result/parse.ts';
export { formatResult, formatError } from './result/format.ts';
export type {
  RouteV020,
  IpConfigV020,
  ResultV020,
  InterfaceV040,
  IpConfigV040,
  Route,
  ResultV040,
  InterfaceV100,
  IpConfigV100,
  ResultV100,
  CurrentResult,
  Result,
} from './result/types.ts';
