// SPDX-License-Identifier: Apache-2.0
export {
  NetfilterError,
  NetfilterCommandError,
  NetfilterValidationError,
  NetfilterUnavailableError,
} from './errors.ts';

export { createCommandRunner, getDefaultRunner, runChecked } from './runner.ts';
export type { CommandRunner, CommandRunnerOptions, CommandResult, RunOptions } from './runner.ts';

export { supportsIptables, supportsNftables, chooseBackend } from './detect.ts';
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
  masqueradeNetworkHash,
  masqueradeInstanceHash,
  masqueradeComment,
  macSpoofCheckRefId,
  macSpoofCheckChain,
  macSpoofCheckComment,
  NFT_COMMENT_MAX_BYTES,
} from './names.ts';

export { parseCidr, validateInterfaceName, validateContainerId, validateNetworkName, validateMac } from './validate.ts';
export type { ParsedCidr } from './validate.ts';

export {
  MASQUERADE_TABLE,
  MASQUERADE_CHAIN,
  iptablesMasquerade,
  nftablesMasquerade,
  setupIpMasq,
  teardownIpMasq,
  gcIpMasq,
  listIpMasq,
} from './masquerade.ts';
export type {
  MasqueradeAttachment,
  MasqueradeBackend,
  MasqueradeEntry,
  MasqueradeOptions,
  AttachmentRef,
} from './masquerade.ts';

export {
  MAC_SPOOF_CHECK_TABLE,
  MAC_SPOOF_CHECK_BASE_CHAIN,
  setupMacSpoofCheck,
  teardownMacSpoofCheck,
  listMacSpoofChecks,
  gcMacSpoofChecks,
} from './macspoofchk.ts';
export type {
  MacSpoofCheckAttachment,
  MacSpoofCheckEntry,
  MacSpoofCheckOptions,
  MacSpoofCheckGcOptions,
} from './macspoofchk.ts';
