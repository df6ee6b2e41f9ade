// SPDX-License-Identifier: Apache-2.0
import { errnoName, tagOfErrno, type ErrnoTag } from './errno.ts';

/** What a failed system call means to a caller: the one errno tag of the workspace. */
export type SysErrorTag = ErrnoTag;

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
