// SPDX-License-Identifier: Apache-2.0

const marker = Symbol.for('cni.netns.error');
const notFoundMarker = Symbol.for('cni.netns.error.not-found');
const notANetnsMarker = Symbol.for('cni.netns.error.not-a-netns');
const existsMarker = Symbol.for('cni.netns.error.exists');
const sysctlMarker = Symbol.for('cni.netns.error.sysctl');

/** Options of {@link NetnsError}. */
export interface NetnsErrorOptions {
  /** The namespace path the error is about. */
  path?: string;
  /** The error this one stands for (often a `SysError` of @cni/sys). */
  cause?: unknown;
}

/** Does `value` carry the given marker? Works across copies of this package. */
function marked(value: unknown, symbol: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

/**
 * Anything that went wrong with a network namespace: the root of this package's errors.
 * Subclasses name the cases callers branch on.
 */
export class NetnsError extends Error {
  /** @internal Marks NetnsError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'NetnsError';
  /** The namespace path, when the error is about one. */
  readonly path: string | undefined;

  constructor(message: string, options: NetnsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = options.path;
  }

  /** True for a NetnsError (or subclass), also one made by another copy of this package. */
  static isInstance(value: unknown): value is NetnsError {
    return marked(value, marker);
  }
}

/**
 * The path does not exist. A DEL whose namespace is already gone treats this as success,
 * as upstream does with `ns.NSPathNotExistErr`.
 */
export class NetnsNotFoundError extends NetnsError {
  /** @internal */
  readonly [notFoundMarker] = true as const;
  override readonly name: string = 'NetnsNotFoundError';

  /** @param options.operation What was being done, for the message: `open` (the default) or `delete`. */
  constructor(path: string, options: Omit<NetnsErrorOptions, 'path'> & { operation?: 'open' | 'delete' } = {}) {
    super(`failed to ${options.operation ?? 'open'} netns "${path}": no such file or directory`, {
      path,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }

  /** True for a NetnsNotFoundError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetnsNotFoundError {
    return marked(value, notFoundMarker);
  }
}

/** The path exists but is not a namespace file (nsfs), as upstream's `ns.NSPathNotNSErr`. */
export class NotANetnsError extends NetnsError {
  /** @internal */
  readonly [notANetnsMarker] = true as const;
  override readonly name: string = 'NotANetnsError';
  /** The filesystem magic found at the path. */
  readonly magic: number;

  constructor(path: string, magic: number) {
    super(`"${path}" is not a network namespace: filesystem magic 0x${magic.toString(16)}, expected nsfs (0x6e736673)`, { path });
    this.magic = magic;
  }

  /** True for a NotANetnsError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NotANetnsError {
    return marked(value, notANetnsMarker);
  }
}

/** A named namespace of that name exists already (`ip netns add` says "File exists"). */
export class NetnsExistsError extends NetnsError {
  /** @internal */
  readonly [existsMarker] = true as const;
  override readonly name: string = 'NetnsExistsError';

  constructor(path: string, options: Omit<NetnsErrorOptions, 'path'> = {}) {
    super(`failed to create netns "${path}": file exists`, { ...options, path });
  }

  /** True for a NetnsExistsError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetnsExistsError {
    return marked(value, existsMarker);
  }
}

/** Options of {@link SysctlError}. */
export interface SysctlErrorOptions extends NetnsErrorOptions {
  /** The errno name of the failed file operation, e.g. `ENOENT` for an unknown key. */
  code?: string;
}

/** A sysctl key that is refused (not `net.*`, or a traversal), or that cannot be read or written. */
export class SysctlError extends NetnsError {
  /** @internal */
  readonly [sysctlMarker] = true as const;
  override readonly name: string = 'SysctlError';
  /** The key as given. */
  readonly key: string;
  /** The errno name of the failed file operation, undefined for a refused key. */
  readonly code: string | undefined;

  constructor(key: string, message: string, options: SysctlErrorOptions = {}) {
    super(message, options);
    this.key = key;
    this.code = options.code;
  }

  /** True for a SysctlError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is SysctlError {
    return marked(value, sysctlMarker);
  }
}
