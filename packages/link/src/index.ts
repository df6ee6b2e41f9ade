// SPDX-License-Identifier: Apache-2.0
export { deleteSandboxLink, isLinkGone, isNetnsGone, messageOf, openHost, openSandbox, openSandboxForDel } from './sandbox.ts';

export { findHostPeer, randomVethName, setupVeth } from './veth.ts';
export type { VethOptions, VethPair } from './veth.ts';

export { checkMtuAgainstMaster, defaultRouteInterface, readChildMtu, resolveMaster } from './master.ts';
export type { MasterConf, ResolvedMaster } from './master.ts';

export { createThenRename, temporaryLinkName } from './rename.ts';
export type { CreateThenRenameOptions } from './rename.ts';

export { MAX_ALIAS_BYTES, attachmentAlias, gcHostVeths, isAttachmentOf, isStaleAttachment, parseAttachmentAlias } from './attachment.ts';
export type { AliasOwner } from './attachment.ts';

export { enableForward } from './forward.ts';
