// SPDX-License-Identifier: Apache-2.0
import { NetlinkError } from '../errors.ts';
import type { NetnsRef } from '../types.ts';
import { nodeFs } from './node.ts';

/**
 * Runs `fn` with a descriptor of the namespace; a path is opened and closed around it.
 * A path that cannot be opened is a NetlinkError of `operation` with the path as target.
 */
export function withNetnsFd<T>(netns: NetnsRef, operation: string, fn: (fd: number) => T): T {
  if (typeof netns === 'number') return fn(netns);
  let fd: number;
  try {
    fd = nodeFs().openSync(netns, 'r');
  } catch (error) {
    const errno = -((error as { errno?: number }).errno ?? -2);
    throw new NetlinkError({ operation, target: netns, errno, detail: `failed to open netns "${netns}": ${(error as Error).message}`, cause: error });
  }
  try {
    return fn(fd);
  } finally {
    nodeFs().closeSync(fd);
  }
}
