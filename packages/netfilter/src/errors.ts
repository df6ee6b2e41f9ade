// SPDX-License-Identifier: Apache-2.0

const baseMarker = Symbol.for('cni.netfilter.error');
const commandMarker = Symbol.for('cni.netfilter.command-error');
const validationMarker = Symbol.for('cni.netfilter.validation-error');
const unavailableMarker = Symbol.for('cni.netfilter.unavailable-error');

function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

/**
 * The root of every error this package throws. Plugins turn it into a `CniError` at their
 * own layer; this layer knows nothing of CNI.
 */
export class NetfilterError extends Error {
  /** @internal Marks NetfilterError across copies of this package. */
  readonly [baseMarker] = true as const;
  override readonly name: string = 'NetfilterError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }

  /** True for any error of this hierarchy, also one made by another copy of this package. */
  static isInstance(value: unknown): value is NetfilterError {
    return hasMarker(value, baseMarker);
  }
}

/**
 * A netfilter binary (iptables, ip6tables, nft, ...) exited with an error. Keeps the full
 * argument array and stderr, which is what an operator needs to reproduce it.
 */
export class NetfilterCommandError extends NetfilterError {
  /** @internal */
  readonly [commandMarker] = true as const;
  override readonly name: string = 'NetfilterCommandError';
  /** The command line as executed, the runner's prefix included. */
  readonly command: readonly string[];
  /** The exit status; -1 when the process could not be started. */
  readonly exitCode: number;
  /** What the command printed on stderr, trimmed. */
  readonly stderr: string;

  constructor(command: readonly string[], exitCode: number, stderr: string, options?: { cause?: unknown }) {
    const text = stderr.trim();
    super(`running ${JSON.stringify(command)}: exit status ${exitCode}${text ? `: ${text}` : ''}`, options);
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = text;
  }

  /**
   * True when the command failed because the chain, rule, table or binary it names does not
   * exist: the cases a teardown treats as already done (go-iptables' `IsNotExist` patterns,
   * plus nft's ENOENT text).
   */
  get isNotFound(): boolean {
    return (
      this.exitCode === -1 ||
      /Bad rule \(does a matching rule exist in that chain\?\)|No chain\/target\/match by that name|No such file or directory|does not exist/.test(
        this.stderr,
      )
    );
  }

  /** True for a NetfilterCommandError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetfilterCommandError {
    return hasMarker(value, commandMarker);
  }
}

/**
 * A value meant for a rule (an address, an interface name, a container ID, a comment) was
 * refused before any command ran: nothing from a configuration reaches iptables or nft unchecked.
 */
export class NetfilterValidationError extends NetfilterError {
  /** @internal */
  readonly [validationMarker] = true as const;
  override readonly name: string = 'NetfilterValidationError';
  /** What the value is, e.g. `interface name`. */
  readonly field: string;
  /** The value as given. */
  readonly value: string;

  constructor(field: string, value: string, reason: string) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${reason}`);
    this.field = field;
    this.value = value;
  }

  /** True for a NetfilterValidationError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetfilterValidationError {
    return hasMarker(value, validationMarker);
  }
}

/** The requested backend cannot be used on this host (binary missing, no permission, kernel too old). */
export class NetfilterUnavailableError extends NetfilterError {
  /** @internal */
  readonly [unavailableMarker] = true as const;
  override readonly name: string = 'NetfilterUnavailableError';
  /** `iptables` or `nftables`. */
  readonly backend: string;

  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.backend = backend;
  }

  /** True for a NetfilterUnavailableError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetfilterUnavailableError {
    return hasMarker(value, unavailableMarker);
  }
}
