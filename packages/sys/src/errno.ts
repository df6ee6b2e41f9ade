// SPDX-License-Identifier: Apache-2.0
// The one errno table of the workspace: the name, the tag callers branch on, and glibc's text of
// each errno the libc calls and rtnetlink return, so messages read as `ip` and strace print them
// without loading libc or node:util on an error path. @cni/netlink's errors use it too.
import { nodeRequire } from './internal/require.ts';

/**
 * What a failed call means to a caller, whatever the exact errno: callers branch on the tag (a
 * DEL path treats `NotFound` as done, a lock path retries on `WouldBlock`). `Interrupted` is
 * EINTR, and what @cni/netlink reports for a dump interrupted more often than it retries.
 */
export type ErrnoTag =
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'Busy'
  | 'WouldBlock'
  | 'Interrupted'
  | 'InvalidArgument'
  | 'NotSupported'
  | 'Unknown';

const TABLE: Record<number, readonly [name: string, tag: ErrnoTag, text: string]> = {
  1: ['EPERM', 'PermissionDenied', 'Operation not permitted'],
  2: ['ENOENT', 'NotFound', 'No such file or directory'],
  3: ['ESRCH', 'NotFound', 'No such process'],
  4: ['EINTR', 'Interrupted', 'Interrupted system call'],
  6: ['ENXIO', 'NotFound', 'No such device or address'],
  7: ['E2BIG', 'InvalidArgument', 'Argument list too long'],
  9: ['EBADF', 'InvalidArgument', 'Bad file descriptor'],
  // EWOULDBLOCK is the same number: one name, one tag.
  11: ['EAGAIN', 'WouldBlock', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Unknown', 'Cannot allocate memory'],
  13: ['EACCES', 'PermissionDenied', 'Permission denied'],
  14: ['EFAULT', 'InvalidArgument', 'Bad address'],
  16: ['EBUSY', 'Busy', 'Device or resource busy'],
  17: ['EEXIST', 'AlreadyExists', 'File exists'],
  19: ['ENODEV', 'NotFound', 'No such device'],
  20: ['ENOTDIR', 'InvalidArgument', 'Not a directory'],
  21: ['EISDIR', 'InvalidArgument', 'Is a directory'],
  22: ['EINVAL', 'InvalidArgument', 'Invalid argument'],
  28: ['ENOSPC', 'Unknown', 'No space left on device'],
  33: ['EDOM', 'InvalidArgument', 'Numerical argument out of domain'],
  34: ['ERANGE', 'InvalidArgument', 'Numerical result out of range'],
  36: ['ENAMETOOLONG', 'InvalidArgument', 'File name too long'],
  38: ['ENOSYS', 'NotSupported', 'Function not implemented'],
  88: ['ENOTSOCK', 'InvalidArgument', 'Socket operation on non-socket'],
  90: ['EMSGSIZE', 'InvalidArgument', 'Message too long'],
  92: ['ENOPROTOOPT', 'NotSupported', 'Protocol not available'],
  93: ['EPROTONOSUPPORT', 'NotSupported', 'Protocol not supported'],
  94: ['ESOCKTNOSUPPORT', 'NotSupported', 'Socket type not supported'],
  95: ['EOPNOTSUPP', 'NotSupported', 'Operation not supported'],
  97: ['EAFNOSUPPORT', 'NotSupported', 'Address family not supported by protocol'],
  98: ['EADDRINUSE', 'Busy', 'Address already in use'],
  99: ['EADDRNOTAVAIL', 'NotFound', 'Cannot assign requested address'],
  101: ['ENETUNREACH', 'Unknown', 'Network is unreachable'],
  105: ['ENOBUFS', 'Unknown', 'No buffer space available'],
  113: ['EHOSTUNREACH', 'Unknown', 'No route to host'],
  115: ['EINPROGRESS', 'WouldBlock', 'Operation now in progress'],
};

/** The tag of a positive errno (Linux numbering). */
export function tagOfErrno(errno: number): ErrnoTag {
  return TABLE[errno]?.[1] ?? 'Unknown';
}

/** The text of a positive errno, as strerror gives it; `errno N` for one the table lacks. */
export function errnoMessage(errno: number): string {
  return TABLE[errno]?.[2] ?? `errno ${errno}`;
}

let names: Map<number, string> | undefined;

/** The symbolic name of an errno, e.g. `ENOENT` for 2, `E<number>` when the system names none. */
export function errnoName(errno: number): string {
  const known = TABLE[errno]?.[0];
  if (known !== undefined) return known;
  if (!names) {
    names = new Map();
    // Loaded only for an errno the table lacks: node:os is not free to import.
    const { constants } = nodeRequire()('node:os') as typeof import('node:os');
    // First name wins: EAGAIN before EWOULDBLOCK, as strace prints it.
    for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
  }
  return names.get(errno) ?? `E${errno}`;
}
