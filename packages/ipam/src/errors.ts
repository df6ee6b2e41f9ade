// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, type CniErrorCode } from '@cni/spec';

const marker = Symbol.for('cni.ipam.error');

/** Options of {@link IpamError}. */
export interface IpamErrorOptions {
  /** The CNI code; default 999, which upstream's plugins report for these failures. */
  code?: CniErrorCode;
  /** The error this one stands for (a NetlinkError, a SysctlError). */
  cause?: unknown;
}

/**
 * What applying an IPAM result, or running a plugin's IPAM, failed with. A CniError, so that a
 * plugin can let it through to its runtime unchanged.
 */
export class IpamError extends CniError {
  /** @internal Marks IpamError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'IpamError';

  constructor(message: string, options: IpamErrorOptions = {}) {
    super(options.code ?? CNI_ERROR_CODES.INTERNAL, message, options.cause === undefined ? {} : { cause: options.cause });
  }

  /** True for an IpamError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is IpamError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
