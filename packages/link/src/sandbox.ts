// SPDX-License-Identifier: Apache-2.0
import { parseIp } from '@cni/ip';
import { NetlinkError, NetnsGoneError, openNetlink, type Link, type Netlink } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';

/** True when opening a namespace failed because its file is gone (ENOENT). */
export function isNetnsGone(error: unknown): boolean {
  return NetnsGoneError.isInstance(error);
}

/** True when a netlink call failed because the link it named does not exist. */
export function isLinkGone(error: unknown): boolean {
  return NetlinkError.isInstance(error) && error.tag === 'NotFound';
}

/**
 * A netlink handle bound to the container's namespace: the process never enters it. A path that
 * does not exist is code 3 ("container unknown"), so the runtime knows there is nothing to undo.
 */
export async function openSandbox(netns: string): Promise<Netlink> {
  try {
    return await openNetlink({ netns });
  } catch (error) {
    if (isNetnsGone(error)) {
      throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `failed to open netns "${netns}": no such file or directory`, { cause: error });
    }
    if (NetlinkError.isInstance(error)) throw new Error(`failed to open netns "${netns}": ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * The container's namespace for DEL: undefined when there is none or it is already gone, which
 * DEL treats as done (kubernetes/kubernetes#43014: runtimes call DEL after removing the netns).
 */
export async function openSandboxForDel(netns: string): Promise<Netlink | undefined> {
  if (netns === '') return undefined;
  try {
    return await openNetlink({ netns });
  } catch (error) {
    if (isNetnsGone(error)) return undefined;
    throw error;
  }
}

/** A netlink handle on the namespace the plugin runs in: the host side of every attachment. */
export async function openHost(): Promise<Netlink> {
  return openNetlink();
}

/**
 * DEL of the link a plugin made in the container: remove `ifName` from the container's namespace;
 * a namespace or link already gone is success (DEL is idempotent). Returns whether it removed one.
 * `leftover` is the attachment's temporary name ({@link temporaryLinkName} with its container ID
 * and ifname): an ADD killed between creating and renaming left the link under it.
 */
export async function deleteSandboxLink(netns: string, ifName: string, options: { leftover?: string } = {}): Promise<boolean> {
  const container = await openSandboxForDel(netns);
  if (!container) return false;
  try {
    // A link an ADD killed before its rename left under its temporary name (createThenRename).
    if (options.leftover !== undefined) await container.link.del({ name: options.leftover }).catch(() => undefined);
    await container.link.del({ name: ifName });
    return true;
  } catch (error) {
    if (isLinkGone(error)) return false;
    throw error;
  } finally {
    container.close();
  }
}

/**
 * DEL of a veth plugin's container end (bridge, ptp), as upstream's `DelLinkByNameAddr`: remove
 * `ifName` and return its global unicast addresses (what masquerading was set up for).
 * `undefined` when the namespace is gone or there is none, `[]` when the link is already gone.
 */
export async function deleteSandboxLinkByNameAddr(netns: string, ifName: string): Promise<string[] | undefined> {
  const container = await openSandboxForDel(netns);
  if (!container) return undefined;
  try {
    const link = await container.link.find({ name: ifName });
    if (!link) return [];
    const addresses = await container.address.list({ link: { index: link.index } });
    try {
      await container.link.del({ index: link.index });
    } catch (error) {
      if (!isLinkGone(error)) throw new Error(`failed to delete "${ifName}": ${messageOf(error)}`, { cause: error });
    }
    return addresses.filter((address) => parseIp(address.address).isGlobalUnicast).map((address) => address.cidr);
  } finally {
    container.close();
  }
}

/** The link types whose `kind` may be `K` (`ipvlan` gives IpvlanLink, whose kind is `ipvlan | ipvtap`). */
export type LinkOfKind<K extends Link['kind']> = Link extends infer L ? (L extends { kind: infer LK } ? (K extends LK ? L : never) : never) : never;

/**
 * CHECK of a plugin's container link: the link prevResult names exists in the container, is of
 * `kind`, and has prevResult's MAC when it gives one. Returns the link for the plugin's own checks.
 */
export async function checkSandboxLink<K extends Link['kind']>(
  container: Netlink,
  iface: { name: string; mac?: string | undefined },
  kind: K,
): Promise<LinkOfKind<K>> {
  const link = await container.link.find({ name: iface.name });
  if (!link) throw new Error(`container interface "${iface.name}" of prevResult not found`);
  if (link.kind !== kind) throw new Error(`container interface "${iface.name}" is a ${link.kind}, not ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`);
  if (iface.mac && iface.mac.toLowerCase() !== link.mac) {
    throw new Error(`interface "${iface.name}" MAC ${iface.mac} doesn't match container MAC ${link.mac ?? ''}`);
  }
  return link as LinkOfKind<K>;
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
