// SPDX-License-Identifier: Apache-2.0

// Node has no strerror; these are glibc's texts and names for the errnos rtnetlink returns, so
// that messages read as `ip` prints them, without loading libc or node:util for an error path.
const known: Record<number, [string, string]> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  3: ['ESRCH', 'No such process'],
  4: ['EINTR', 'Interrupted system call'],
  7: ['E2BIG', 'Argument list too long'],
  9: ['EBADF', 'Bad file descriptor'],
  11: ['EAGAIN', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Cannot allocate memory'],
  13: ['EACCES', 'Permission denied'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  19: ['ENODEV', 'No such device'],
  22: ['EINVAL', 'Invalid argument'],
  28: ['ENOSPC', 'No space left on device'],
  33: ['EDOM', 'Numerical argument out of domain'],
  34: ['ERANGE', 'Numerical result out of range'],
  36: ['ENAMETOOLONG', 'File name too long'],
  38: ['ENOSYS', 'Function not implemented'],
  90: ['EMSGSIZE', 'Message too long'],
  93: ['EPROTONOSUPPORT', 'Protocol not supported'],
  95: ['EOPNOTSUPP', 'Operation not supported'],
  97: ['EAFNOSUPPORT', 'Address family not supported by protocol'],
  99: ['EADDRNOTAVAIL', 'Cannot assign requested address'],
  101: ['ENETUNREACH', 'Network is unreachable'],
  105: ['ENOBUFS', 'No buffer space available'],
  113: ['EHOSTUNREACH', 'No route to host'],
};

/** The text of a positive errno, as strerror gives it. */
export function errnoMessage(errno: number): string {
  return known[errno]?.[1] ?? `errno ${errno}`;
}

/** The symbolic name of a positive errno (`ENODEV`). */
export function errnoName(errno: number): string {
  return known[errno]?.[0] ?? `E${errno}`;
}
