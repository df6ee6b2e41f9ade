// SPDX-License-Identifier: Apache-2.0
export type { LinkOfKind } from './sandbox.ts';
export { checkSandboxLink, deleteSandboxLink, deleteSandboxLinkByNameAddr, isLinkGone, isNetnsGone, messageOf, openHost, openSandbox, openSandboxForDel } from './sandbox.ts';

export { findHostPeer, randomVethName, setupVeth } from './veth.ts';
export type { VethOptions, VethPair } from './veth.ts';

export { checkMtuAgainstMaster, createOnMaster, defaultRouteInterface, readChildMtu, resolveMaster } from './master.ts';
export type { ChildLinkAdd, ChildLinkSpec, CreateOnMasterOptions, MasterConf, ResolvedMaster } from './master.ts';

export { createThenRename, temporaryLinkName } from './rename.ts';
export type { CreateThenRenameOptions } from './rename.ts';

export { MAX_ALIAS_BYTES, attachmentAlias, gcHostVeths, isAttachmentOf, isStaleAttachment, parseAttachmentAlias } from './attachment.ts';
export type { AliasOwner } from './attachment.ts';

export { enableForward } from './forward.ts';

export { macByPrecedence } from './mac.ts';
export type { MacSources } from './mac.ts';

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
export type { MasqueradeAttachment, MasqueradeBackend, MasqueradeEntry, MasqueradeOptions, AttachmentRef } from './masquerade.ts';

export {
  MAC_SPOOF_CHECK_TABLE,
  MAC_SPOOF_CHECK_BASE_CHAIN,
  setupMacSpoofCheck,
  teardownMacSpoofCheck,
  listMacSpoofChecks,
  gcMacSpoofChecks,
} from './macspoofchk.ts';
export type { MacSpoofCheckAttachment, MacSpoofCheckEntry, MacSpoofCheckOptions, MacSpoofCheckGcOptions } from './macspoofchk.ts';

export { masqueradeNetworkHash, masqueradeInstanceHash, masqueradeComment, macSpoofCheckRefId, macSpoofCheckChain, macSpoofCheckComment } from './netfilter-names.ts';
