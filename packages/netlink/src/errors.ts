// SPDX-License-Identifier: Apache-2.0
import { errnoMessage, errnoName, tagOfErrno as sysTagOfErrno, type ErrnoTag } from '@cni/sys';

/**
 * What went wrong, normalised once from the kernel's errno by @cni/sys's one errno table, so
 * callers branch on a tag rather than on numbers: `NotFound` covers ENODEV, ENOENT, ESRCH and
 * EADDRNOTAVAIL, `AlreadyExists` EEXIST, `WouldBlock` EAGAIN, and so on. `Interrupted` is also
 * what is left when a dump was interrupted more often than the library retries it.
 */
export type NetlinkErrorTag = ErrnoTag;

/** Options of {@link NetlinkError}. */
export interface NetlinkErrorOptions {
  /** The operation, grouped like the API: `link.add`, `address.del`, `qdisc.add`. */
  operation: string;
  /** What it acted on: a link name, an address, a route; empty when none applies. */
  target?: string;
  /** The positive errno, 0 when the error was found before asking the kernel. */
  errno?: number;
  /** The tag; derived from errno when absent. */
  tag?: NetlinkErrorTag;
  /** A more precise reason, such as the kernel's extended ack text. */
  detail?: string;
  /** The error this one stands for. */
  cause?: unknown;
}

const marker = Symbol.for('cni.netlink.error');
const notFoundMarker = Symbol.for('cni.netlink.link-not-found');

/** The tag of a positive errno: @cni/sys's, the one table of the workspace. */
export const tagOfErrno: (errno: number) => NetlinkErrorTag = sysTagOfErrno;

/**
 * The one error of this package: a netlink request the kernel refused, or arguments refused
 * before asking it. Its message reads `NotFound: link.get (mv0): No such device`.
 *
 * @example
 * ```ts
 * try { await nl.link.del({ name: 'mv0' }); }
 * catch (error) { if (!(NetlinkError.isInstance(error) && error.tag === 'NotFound')) throw error; }
 * ```
 */
export class NetlinkError extends Error {
  /** @internal Marks NetlinkError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'NetlinkError';
  /** What went wrong, normalised. */
  readonly tag: NetlinkErrorTag;
  /** The positive errno, or 0 for arguments refused before any request. */
  readonly errno: number;
  /** The operation that failed, such as `link.add`. */
  readonly operation: string;
  /** What the operation acted on, such as the link name. */
  readonly target: string;

  constructor(options: NetlinkErrorOptions) {
    const errno = options.errno ?? 0;
    const tag = options.tag ?? tagOfErrno(errno);
    const target = options.target ?? '';
    const reason = options.detail ?? (errno === 0 ? 'invalid argument' : errnoMessage(errno));
    const where = target === '' ? options.operation : `${options.operation} (${target})`;
    super(`${tag}: ${where}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.tag = tag;
    this.errno = errno;
    this.operation = options.operation;
    this.target = target;
  }

  /** The errno's symbolic name (`ENODEV`), or an empty string when errno is 0. */
  get code(): string {
    return this.errno === 0 ? '' : errnoName(this.errno);
  }

  /** True for a NetlinkError, also one made by another copy of this package. */
  static isInstance(value: unknown): value is NetlinkError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/**
 * A link that does not exist. A subclass because DEL paths tolerate exactly this error
 * (vishvananda/netlink's LinkNotFoundError); its tag is always `NotFound`.
 */
export class LinkNotFoundError extends NetlinkError {
  /** @internal Marks LinkNotFoundError across copies of this package. */
  readonly [notFoundMarker] = true as const;
  override readonly name: string = 'LinkNotFoundError';

  constructor(options: Omit<NetlinkErrorOptions, 'tag'>) {
    super({ ...options, tag: 'NotFound', errno: options.errno ?? 19 });
  }

  /** True for a LinkNotFoundError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is LinkNotFoundError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[notFoundMarker] === true;
  }
}

const netnsGoneMarker = Symbol.for('cni.netlink.netnsGone');

/**
 * Opening a handle on a network namespace failed because its file is gone (ENOENT): the
 * container is gone, which DEL treats as done and ADD reports as code 3. `isInstance` also
 * recognises the plain NetlinkError `openNetlink` throws for it today (operation
 * `netlink.open`, errno 2), so callers test one type instead of strings.
 */
export class NetnsGoneError extends NetlinkError {
  /** @internal Marks NetnsGoneError across copies of this package. */
  readonly [netnsGoneMarker] = true as const;
  override readonly name: string = 'NetnsGoneError';

  constructor(options: Omit<NetlinkErrorOptions, 'tag' | 'errno' | 'operation'>) {
    super({ ...options, operation: 'netlink.open', tag: 'NotFound', errno: 2 });
  }

  /** True for a NetnsGoneError, or a NetlinkError of `netlink.open` with errno ENOENT. */
  static override isInstance(value: unknown): value is NetlinkError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[netnsGoneMarker] === true) return true;
    return NetlinkError.isInstance(value) && value.operation === 'netlink.open' && value.errno === 2;
  }
}

/** An argument refused before any request was sent. */
export function invalidArgument(operation: string, target: string, detail: string): NetlinkError {
  return new NetlinkError({ operation, target, tag: 'InvalidArgument', errno: 22, detail });
}
