// SPDX-License-Identifier: Apache-2.0
import { nodeRequire } from './internal/require.ts';

/**
 * What a failed system call means to a caller, whatever the exact errno: callers branch on
 * the tag (a DEL path treats `NotFound` as done, a lock path retries on `WouldBlock`).
 */
export type SysErrorTag =
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'Busy'
  | 'WouldBlock'
  | 'InvalidArgument'
  | 'NotSupported'
  | 'Unknown';

const marker = Symbol.for('cni.sys.error');

/** Options of {@link SysError}. */
export interface SysErrorOptions {
  /** The object of the call, quoted in the message: a path, an interface name, a file descriptor. */
  target?: string;
  /** The system's description of the errno; looked up when left out. */
  description?: string;
  /** The error this one stands for. */
  cause?: unknown;
}

/**
 * A system call that failed, with its errno normalised once into a {@link SysErrorTag}.
 *
 * The message reads `setns "/var/run/netns/c1": invalid argument (EINVAL)`.
 */
export class SysError extends Error {
  /** @internal Marks SysError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'SysError';
  /** What the errno means to a caller. */
  readonly tag: SysErrorTag;
  /** The raw errno, e.g. 22. */
  readonly errno: number;
  /** The symbolic errno, e.g. `EINVAL`, or `E<number>` when the system does not name it. */
  readonly code: string;
  /** The system call, e.g. `setns`. */
  readonly syscall: string;
  /** The object of the call, or undefined. */
  readonly target: string | undefined;

  constructor(syscall: string, errno: number, options: SysErrorOptions = {}) {
    const code = errnoName(errno);
    const description = options.description?.replace(/ \(os error \d+\)$/, '');
    const reason = description ? `${description.charAt(0).toLowerCase()}${description.slice(1)} (${code})` : code;
    const object = options.target === undefined ? '' : ` ${JSON.stringify(options.target)}`;
    super(`${syscall}${object}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.tag = tagOfErrno(errno);
    this.target = options.target;
  }

  /** True for a SysError, also one made by another copy of this package. */
  static isInstance(value: unknown): value is SysError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The tag of an errno (Linux numbering). */
export function tagOfErrno(errno: number): SysErrorTag {
  switch (errno) {
    case 2: // ENOENT
    case 3: // ESRCH
    case 6: // ENXIO
    case 19: // ENODEV
    case 99: // EADDRNOTAVAIL
      return 'NotFound';
    case 17: // EEXIST
      return 'AlreadyExists';
    case 1: // EPERM
    case 13: // EACCES
      return 'PermissionDenied';
    case 16: // EBUSY
    case 98: // EADDRINUSE
      return 'Busy';
    case 11: // EAGAIN, EWOULDBLOCK
    case 115: // EINPROGRESS
      return 'WouldBlock';
    case 9: // EBADF
    case 14: // EFAULT
    case 20: // ENOTDIR
    case 21: // EISDIR
    case 22: // EINVAL
    case 36: // ENAMETOOLONG
    case 88: // ENOTSOCK
      return 'InvalidArgument';
    case 38: // ENOSYS
    case 92: // ENOPROTOOPT
    case 93: // EPROTONOSUPPORT
    case 94: // ESOCKTNOSUPPORT
    case 95: // EOPNOTSUPP
    case 97: // EAFNOSUPPORT
      return 'NotSupported';
    default:
      return 'Unknown';
  }
}

let names: Map<number, string> | undefined;

/** The symbolic name of an errno, e.g. `ENOENT` for 2. */
export function errnoName(errno: number): string {
  if (!names) {
    names = new Map();
    // Loaded on the first error only: node:os is not free to import, and most runs see no error.
    const { constants } = nodeRequire()('node:os') as typeof import('node:os');
    // First name wins: EAGAIN before EWOULDBLOCK, as strace prints it.
    for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
  }
  return names.get(errno) ?? `E${errno}`;
}
