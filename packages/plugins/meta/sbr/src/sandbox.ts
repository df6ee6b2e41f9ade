// SPDX-License-Identifier: Apache-2.0
import { closeSync, openSync } from 'node:fs';
import { NetlinkError, openNetlink, type Netlink } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { flockAsync, LOCK_EX } from '@cni/sys';
import { isNetnsGone as isNetlinkNetnsGone } from '@cni/link';

/** True when opening the namespace failed because its file is gone (ENOENT). */
function isNetnsGone(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'ENOENT' || isNetlinkNetnsGone(error);
}

/**
 * Runs `fn` with a netlink handle in the container's namespace while holding an exclusive lock on
 * the namespace file, as upstream does: two sbr runs in one namespace would pick the same free table.
 * A namespace that does not exist is code 3.
 */
export async function withLockedSandbox<T>(netns: string, fn: (nl: Netlink) => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = openSync(netns, 'r');
  } catch (error) {
    if (isNetnsGone(error)) throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `failed to open netns "${netns}": no such file or directory`, { cause: error });
    throw error;
  }
  try {
    // The lock goes with the descriptor when it is closed.
    await flockAsync(fd, LOCK_EX);
    let nl: Netlink;
    try {
      nl = await openNetlink({ netns });
    } catch (error) {
      if (NetlinkError.isInstance(error)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `failed to open netns "${netns}": ${error.message}`, { cause: error });
      throw error;
    }
    try {
      return await fn(nl);
    } finally {
      nl.close();
    }
  } finally {
    closeSync(fd);
  }
}
