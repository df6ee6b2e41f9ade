// SPDX-License-Identifier: Apache-2.0

const marker = Symbol.for('cni.ip.error');

/** Options of {@link IpError}. */
export interface IpErrorOptions {
  /** The text that failed to parse, when the error is about one. */
  input?: string;
  /** The error this one stands for (for example the parser's own), kept for logs. */
  cause?: unknown;
}

/**
 * The one error of `@cni/ip`: bad address or prefix text, a prefix length out of range, a range
 * whose ends disagree. It carries no CNI error code: this layer knows nothing of CNI, and the
 * plugin that called it picks the code (usually `INVALID_NETWORK_CONFIG`).
 *
 * @example
 * ```ts
 * try { parseCidr('10.0.0.0/33'); } catch (error) {
 *   if (IpError.isInstance(error)) console.log(error.message); // invalid CIDR address: "10.0.0.0/33"
 * }
 * ```
 */
export class IpError extends Error {
  /** @internal Marks IpError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'IpError';
  /** The text that failed to parse, or undefined when the error is not about parsing. */
  readonly input: string | undefined;

  constructor(message: string, options: IpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.input = options.input;
  }

  /**
   * True for an IpError, also one made by another copy of this package (where `instanceof`
   * fails because two copies are installed).
   */
  static isInstance(value: unknown): value is IpError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** Go's `%q` for the texts we quote: JSON's escaping agrees with it on everything printable. */
export function quote(text: string): string {
  return JSON.stringify(text);
}
