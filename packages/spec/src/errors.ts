// SPDX-License-Identifier: Apache-2.0
import { show } from './internal/json.ts';

/**
 * The error codes of the CNI specification (SPEC.md section "Error"), plus the library-only
 * codes upstream's `pkg/types` defines (8: the netns check of skel, 999: internal).
 * Codes 0-99 are reserved by the spec; plugins may use 100 and above.
 */
export const CNI_ERROR_CODES = {
  UNKNOWN: 0,
  INCOMPATIBLE_CNI_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT_VARIABLES: 4,
  IO_FAILURE: 5,
  DECODING_FAILURE: 6,
  INVALID_NETWORK_CONFIG: 7,
  INVALID_NETNS: 8,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
  INTERNAL: 999,
} as const;

/** The name of a well-known CNI error code. */
export type CniErrorName = keyof typeof CNI_ERROR_CODES;

/** A CNI error code: one of the well-known ones, or a plugin-specific code of 100 and above. */
export type CniErrorCode = (typeof CNI_ERROR_CODES)[CniErrorName] | (number & {});

/** The wire form of an error, as a plugin prints it on stdout (SPEC.md section 5). */
export interface CniErrorJson {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

const marker = Symbol.for('cni.error');

/** Options of {@link CniError}. */
export interface CniErrorOptions {
  /** Longer text for the user; printed as `details`. */
  details?: string;
  /** The error this one stands for, kept for logs; never printed on the wire. */
  cause?: unknown;
}

/**
 * The one error type a plugin reports to its runtime. Its {@link CniError.toJSON} is the
 * spec's error format; skel prints it on stdout and exits 1.
 *
 * @example
 * ```ts
 * throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'invalid mode "foo"');
 * ```
 */
export class CniError extends Error {
  /** @internal Marks CniError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'CniError';
  /** The CNI error code. */
  readonly code: CniErrorCode;
  /** Longer text for the user, or undefined. */
  readonly details: string | undefined;

  constructor(code: CniErrorCode, message: string, options: CniErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /**
   * True for a CniError, also one made by another copy of this package (where
   * `instanceof` fails because two copies are installed).
   */
  static isInstance(value: unknown): value is CniError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /**
   * The wire form. `cniVersion` is left out unless given: upstream's skel does not print it,
   * and runtimes match on `code` and `msg`.
   */
  toJSON(cniVersion?: string): CniErrorJson {
    return {
      ...(cniVersion === undefined ? {} : { cniVersion }),
      code: this.code,
      msg: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  /** Rebuild an error from its wire form, as a runtime or a delegating plugin reads it. */
  static fromJSON(json: CniErrorJson): CniError {
    return new CniError(json.code, json.msg, json.details === undefined ? {} : { details: json.details });
  }
}

/**
 * Turn anything thrown into a CniError: a CniError passes through unchanged (as upstream's
 * skel passes a `*types.Error` through), anything else becomes code 999 with its message.
 */
export function toCniError(error: unknown, code: CniErrorCode = CNI_ERROR_CODES.INTERNAL): CniError {
  if (CniError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CniError(code, message, { cause: error });
}

/**
 * Code 2, for a key the plugin knows in a form it does not support (the spec asks the message to
 * name the key and the value): `unsupported mode "foo", must be one of bridge, private`.
 */
export function unsupportedFieldError(key: string, value: unknown, expected: string): CniError {
  return new CniError(CNI_ERROR_CODES.UNSUPPORTED_FIELD, `unsupported ${key} ${show(value)}, must be ${expected}`);
}

/**
 * Code 7, for a key whose value is wrong whatever the plugin: the parsers' wording,
 * `invalid ipam.type 7, must be a string`.
 */
export function invalidConfigError(key: string, value: unknown, expected: string): CniError {
  return new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${key} ${show(value)}, must be ${expected}`);
}

/** True when `value` has the shape of an error printed by a plugin: `{ code: number, msg: string }`. */
export function isCniErrorJson(value: unknown): value is CniErrorJson {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.code === 'number' && (record.msg === undefined || typeof record.msg === 'string');
}
