// SPDX-License-Identifier: Apache-2.0
// @cni/sys's: node:crypto would cost a plugin 6-9 ms of its start.
import { randomBytes } from '@cni/sys';
import type { Link, Netlink } from '@cni/netlink';
import { messageOf } from './sandbox.ts';

/**
 * A temporary link name: `prefix` and 8 hex digits (fits IFNAMSIZ for a prefix of up to 7). With
 * `attachment` (`<containerID>/<ifname>`) the digits are its FNV-1a hash, so that the runtime's DEL
 * after an ADD killed between creating and renaming finds the link by the same name
 * ({@link deleteSandboxLink}'s `leftover`); without it, random.
 */
export function temporaryLinkName(prefix: string, attachment?: string): string {
  if (attachment === undefined) return `${prefix}${randomBytes(4).toString('hex')}`;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(attachment, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return `${prefix}${hash.toString(16).padStart(8, '0')}`;
}

/** Options of {@link createThenRename}. */
export interface CreateThenRenameOptions {
  /** The container's namespace handle, where the link ends up. */
  container: Netlink;
  /** The name it must end up with (CNI_IFNAME). */
  ifName: string;
  /** The temporary name's prefix: `mv`, `ipvl`, `vlan`... */
  prefix: string;
  /** What the link is, for messages: `macvlan`, `ipvlan`. */
  kind: string;
  /**
   * The container ID: the temporary name is then derived from it and `ifName`
   * ({@link temporaryLinkName}), and a link left under it by a killed ADD of the same attachment
   * is removed first. Without it the name is random, and such a leftover stays until the
   * namespace goes.
   */
  containerId?: string;
  /** Make the link under `tmpName` so that it ends up in the container's namespace; its errors pass through. */
  create: (tmpName: string) => Promise<unknown>;
}

/**
 * Make a link under a random temporary name inside the container, then rename it to `ifName`
 * there: a name that exists on the host would collide otherwise (a kernel quirk upstream works
 * around the same way). A failed rename removes the link. Returns the link as named at the end.
 */
export async function createThenRename(options: CreateThenRenameOptions): Promise<Link> {
  const { container, ifName, kind } = options;
  const tmpName = temporaryLinkName(options.prefix, options.containerId === undefined ? undefined : `${options.containerId}/${ifName}`);
  if (options.containerId !== undefined) await container.link.del({ name: tmpName }).catch(() => undefined);
  // The plugin words its own creation errors (which master, which mode): they pass through.
  await options.create(tmpName);
  try {
    await container.link.setName({ name: tmpName }, ifName);
  } catch (error) {
    await container.link.del({ name: tmpName }).catch(() => undefined);
    throw new Error(`failed to rename ${kind} to "${ifName}": ${messageOf(error)}`, { cause: error });
  }
  return container.link.get({ name: ifName });
}
