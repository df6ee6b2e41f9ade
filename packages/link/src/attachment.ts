// SPDX-License-Identifier: Apache-2.0
import type { Netlink } from '@cni/netlink';
import type { GcAttachment } from '@cni/spec';

/** The kernel keeps an interface alias of up to IFALIASZ - 1 = 255 bytes. */
export const MAX_ALIAS_BYTES = 255;

/** The attachment an alias names: in full, or (the bounded form) by digests only. */
export type AliasOwner =
  | { readonly form: 'full'; readonly network: string; readonly containerId: string; readonly ifName: string }
  | { readonly form: 'digest'; readonly networkDigest: string; readonly attachmentDigest: string };

/** SHA-256 as hex, loaded on first use: node:crypto costs milliseconds of every start otherwise. */
function sha256(text: string, hexDigits: number): string {
  const crypto = process.getBuiltinModule('node:crypto');
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, hexDigits);
}

/** The digests of the bounded form: 16 hex digits of the network, 32 of the attachment. */
function networkDigest(network: string): string {
  return sha256(network, 16);
}
function attachmentDigest(network: string, containerId: string, ifName: string): string {
  // NUL cannot occur in any of the three, so the joined text is unambiguous.
  return sha256(`${network}\0${containerId}\0${ifName}`, 32);
}

/**
 * The alias a host veth carries so that GC can tell which attachment it belongs to:
 * `cni/<plugin>/<network>/<containerID>/<ifname>` when that fits the kernel's 255 bytes, else
 * `cni/<plugin>/#<16 hex of sha256(network)>/<32 hex of sha256(network, containerID, ifname)>`,
 * which fits for every valid input (a plugin name is short) and cannot collide in practice (128
 * bits). None of the parts can hold a `/` (network names and container IDs are
 * `[a-zA-Z0-9_.-]`, interface names have no `/`). Upstream sets no alias; nothing else reads it.
 */
export function attachmentAlias(plugin: string, network: string, containerId: string, ifName: string): string {
  const full = `cni/${plugin}/${network}/${containerId}/${ifName}`;
  if (Buffer.byteLength(full) <= MAX_ALIAS_BYTES) return full;
  return `cni/${plugin}/#${networkDigest(network)}/${attachmentDigest(network, containerId, ifName)}`;
}

/** The attachment an alias made by {@link attachmentAlias} names, or undefined for any other alias. */
export function parseAttachmentAlias(alias: string | undefined, plugin: string): AliasOwner | undefined {
  if (alias === undefined) return undefined;
  const parts = alias.split('/');
  if (parts[0] !== 'cni' || parts[1] !== plugin) return undefined;
  if (parts.length === 4 && /^#[0-9a-f]{16}$/.test(parts[2]!) && /^[0-9a-f]{32}$/.test(parts[3]!)) {
    return { form: 'digest', networkDigest: parts[2]!.slice(1), attachmentDigest: parts[3]! };
  }
  if (parts.length !== 5) return undefined;
  const [, , network, containerId, ifName] = parts as [string, string, string, string, string];
  return { form: 'full', network, containerId, ifName };
}

/** True when an alias's owner is an attachment of `network`. */
export function isAttachmentOf(owner: AliasOwner | undefined, network: string): boolean {
  if (!owner) return false;
  return owner.form === 'full' ? owner.network === network : owner.networkDigest === networkDigest(network);
}

/** True when an alias's owner is an attachment of `network` that is not in `valid`. */
export function isStaleAttachment(owner: AliasOwner, network: string, valid: readonly GcAttachment[]): boolean {
  if (!isAttachmentOf(owner, network)) return false;
  if (owner.form === 'full') {
    return !valid.some((attachment) => attachment.containerID === owner.containerId && attachment.ifname === owner.ifName);
  }
  return !valid.some((attachment) => attachmentDigest(network, attachment.containerID, attachment.ifname) === owner.attachmentDigest);
}

/**
 * Delete the host veths of `network` made by `plugin` whose attachment is not in `valid`; returns
 * their names. Deleting a veth deletes its peer, so a container that still exists loses the
 * interface the runtime no longer knows about. Both alias forms are recognised.
 */
export async function gcHostVeths(host: Netlink, plugin: string, network: string, valid: readonly GcAttachment[]): Promise<string[]> {
  const removed: string[] = [];
  for (const link of await host.link.list()) {
    if (link.kind !== 'veth') continue;
    const owner = parseAttachmentAlias(link.alias, plugin);
    if (!owner || !isStaleAttachment(owner, network, valid)) continue;
    try {
      await host.link.del({ index: link.index });
      removed.push(link.name);
    } catch (error) {
      // Gone meanwhile (its namespace was removed): that is what GC wanted.
      if ((error as { tag?: string }).tag !== 'NotFound') throw error;
    }
  }
  return removed;
}
