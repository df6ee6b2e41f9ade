// SPDX-License-Identifier: Apache-2.0
import { NetlinkError, openNetlink, type Netlink } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';

/** True when opening the namespace failed because its file is gone (ENOENT). */
export function isNetnsGone(error: unknown): boolean {
  return NetlinkError.isInstance(error) && error.operation === 'netlink.open' && error.errno === 2;
}

/** A netlink handle in the container's namespace; a namespace that does not exist is code 3. */
export async function openSandbox(netns: string): Promise<Netlink> {
  try {
    return await openNetlink({ netns });
  } catch (error) {
    if (isNetnsGone(error)) {
      throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `failed to open netns "${netns}": no such file or directory`, { cause: error });
    }
    if (NetlinkError.isInstance(error)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `failed to open netns "${netns}": ${error.message}`, { cause: error });
    throw error;
  }
}

/** The previous result in the 1.x layout; a chained-only verb without one fails as upstream's. */
export function requirePrevResult(prevResult: Result | undefined): ResultV100 {
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'must be called as chained plugin');
  return toCurrentResult(prevResult);
}
