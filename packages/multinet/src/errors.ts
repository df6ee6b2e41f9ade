// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, type CniErrorCode } from '@cni/spec';

const marker = Symbol.for('cni.multinet.error');

/** Options of {@link MultinetError}. */
export interface MultinetErrorOptions {
  /** The CNI code the runtime reads; 7 (invalid network configuration) by default. */
  code?: CniErrorCode;
  /** Longer text, printed as the error's `details`. */
  details?: string;
  /** The error behind this one. */
  cause?: unknown;
}

/**
 * The errors of multinet: an invalid annotation, a network that cannot be resolved, an
 * attachment that failed. A CniError, so skel prints it as the spec's error JSON.
 */
export class MultinetError extends CniError {
  /** @internal Marks MultinetError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'MultinetError';

  constructor(message: string, options: MultinetErrorOptions = {}) {
    super(options.code ?? CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, message, {
      ...(options.details === undefined ? {} : { details: options.details }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }

  /** True for a MultinetError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is MultinetError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** The text of any thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
