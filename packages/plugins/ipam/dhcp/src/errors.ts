// SPDX-License-Identifier: Apache-2.0

const marker = Symbol.for('cni.ipam-dhcp.error');
const packetMarker = Symbol.for('cni.ipam-dhcp.error.packet');
const daemonMarker = Symbol.for('cni.ipam-dhcp.error.daemon-unreachable');

function marked(value: unknown, symbol: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

/** Options of {@link DhcpError}. */
export interface DhcpErrorOptions {
  /** The CNI error code the plugin reports for it; 999 (internal) when unset. */
  code?: number;
  /** The error this one stands for. */
  cause?: unknown;
}

/**
 * Anything that went wrong acquiring, keeping or releasing a DHCP lease, or talking to the
 * daemon: the root of this package's errors. Its `code` is the CNI code the plugin prints.
 */
export class DhcpError extends Error {
  /** @internal Marks DhcpError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'DhcpError';
  /** The CNI error code for the runtime. */
  readonly code: number;

  constructor(message: string, options: DhcpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 999;
  }

  /** True for a DhcpError (or subclass), also one made by another copy of this package. */
  static isInstance(value: unknown): value is DhcpError {
    return marked(value, marker);
  }
}

/** A DHCP message that cannot be decoded, or a value that does not fit an option. */
export class DhcpPacketError extends DhcpError {
  /** @internal */
  readonly [packetMarker] = true as const;
  override readonly name: string = 'DhcpPacketError';

  /** True for a DhcpPacketError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is DhcpPacketError {
    return marked(value, packetMarker);
  }
}

/** The plugin could not reach a daemon speaking this package's protocol on the socket. */
export class DaemonUnreachableError extends DhcpError {
  /** @internal */
  readonly [daemonMarker] = true as const;
  override readonly name: string = 'DaemonUnreachableError';
  /** The socket path that was dialled. */
  readonly socketPath: string;

  constructor(socketPath: string, message: string, options: DhcpErrorOptions = {}) {
    super(message, options);
    this.socketPath = socketPath;
  }

  /** True for a DaemonUnreachableError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is DaemonUnreachableError {
    return marked(value, daemonMarker);
  }
}

/** The message of any thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
