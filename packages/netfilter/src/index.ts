// SPDX-License-Identifier: Apache-2.0
export {
  NetfilterError,
  NetfilterCommandError,
  NetfilterValidationError,
  NetfilterUnavailableError,
} from './errors.ts';

export { createCommandRunner, getDefaultRunner, runChecked } from './runner.ts';
export type { CommandRunner, CommandRunnerOptions, CommandResult, RunOptions } from './runner.ts';

export { supportsIptables, supportsNftables, chooseBackend, explainUnavailable } from './detect.ts';
export type { NetfilterBackend, DetectOptions } from './detect.ts';

export {
  Iptables,
  iptablesCommand,
  iptablesRestoreCommand,
  formatIptablesWords,
  parseIptablesListing,
  splitIptablesWords,
  ruleOption,
} from './iptables.ts';
export type { IpFamily, IptablesVariant, IptablesOptions, IptablesRule } from './iptables.ts';

export { IptablesBatch, applyIptablesBatch, readIptablesSnapshot, iptablesRuleKey } from './batch.ts';
export type { IptablesSnapshot } from './batch.ts';

export { Nftables, parseNftListing, applyWithRetry } from './nftables.ts';
export type {
  NftFamily,
  NftTable,
  NftChain,
  NftRule,
  NftStatement,
  NftCommand,
  NftListing,
  NftablesOptions,
} from './nftables.ts';

export {
  formatHashWithPrefix,
  formatChainName,
  formatChainNameWithPrefix,
  formatComment,
  parseComment,
  goQuote,
  truncateUtf8,
  NFT_COMMENT_MAX_BYTES,
} from './names.ts';

export { parseCidr, validateInterfaceName, validateContainerId, validateNetworkName, validateMac } from './validate.ts';
export type { ParsedCidr } from './validate.ts';
