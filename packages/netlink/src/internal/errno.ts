// SPDX-License-Identifier: Apache-2.0
import { getSystemErrorName } from 'node:util';

// Node has no strerror; these are glibc's texts for the errnos rtnetlink returns, so that
// messages read as `ip` prints them without loading libc for an error path.
const messages: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  7: 'Argument list too long',
  9: 'Bad file descriptor',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  22: 'Invalid argument',
  28: 'No space left on device',
  33: 'Numerical argument out of domain',
  34: 'Numerical result out of range',
  36: 'File name too long',
  38: 'Function not implemented',
  90: 'Message too long',
  93: 'Protocol not supported',
  95: 'Operation not supported',
  97: 'Address family not supported by protocol',
  99: 'Cannot assign requested address',
  101: 'Network is unreachable',
  105: 'No buffer space available',
  113: 'No route to host',
};

/** The text of a positive errno, as strerror gives it. */
export function errnoMessage(errno: number): string {
  return messages[errno] ?? `errno ${errno} (${errnoName(errno)})`;
}

/** The symbolic name of a positive errno (`ENODEV`). */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

