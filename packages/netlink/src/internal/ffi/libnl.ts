// SPDX-License-Identifier: Apache-2.0
// The only module of this package that touches ffi-rs. It opens libnl-3 for the socket's life
// cycle (alloc, connect, free) and libc for send and recv on that socket's descriptor (namespaces
// are entered through @cni/netns);
// messages are encoded and decoded in TypeScript (../message/), so one request costs one FFI
// call each way instead of one per attribute.
import { NetnsError, withNetns } from '@cni/netns';
import { SysError } from '@cni/sys';
import { nodeFs, nodeModule } from '../node.ts';

/** ffi-rs's native binding, the part of it this module uses. */
interface FfiBinding {
  open(params: { library: string; path: string }): void;
  load(params: {
    library: string;
    funcName: string;
    retType: number;
    paramsType: number[];
    paramsValue: unknown[];
    errno?: boolean;
    freeResultMemory?: boolean;
  }): unknown;
  isNullPointer(pointer: unknown): boolean;
  createExternalBuffer(pointer: unknown, length: number): Buffer;
}

/** A native pointer, opaque to TypeScript. */
export type Pointer = { readonly __pointer: unique symbol };

// ffi-rs DataType values.
const I32 = 1;
const STRING = 0;
const VOID = 7;
const I64 = 8;
const EXTERNAL = 11;
const U64 = 12;

const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;

let binding: FfiBinding | undefined;

/**
 * ffi-rs's native binding, required directly on glibc Linux: ffi-rs's own entry point first asks
 * `process.report` whether libc is musl, which costs about 15 ms, three times the budget of import
 * plus open. Undefined when the platform package cannot be found that way.
 */
function directBinding(): FfiBinding | undefined {
  try {
    const require = nodeModule().createRequire(import.meta.url);
    return nodeModule().createRequire(require.resolve('ffi-rs'))(`@yuuang/ffi-rs-linux-${process.arch}-gnu`) as FfiBinding;
  } catch {
    return undefined;
  }
}

function useBinding(loaded: FfiBinding): FfiBinding {
  loaded.open({ library: 'libc', path: 'libc.so.6' });
  loaded.open({ library: 'libnl-3', path: 'libnl-3.so.200' });
  binding = loaded;
  return loaded;
}

/** Loads ffi-rs and the two libraries once; the slow public entry point only when needed. */
export async function loadFfi(): Promise<void> {
  if (binding) return;
  const direct = directBinding();
  if (direct) {
    useBinding(direct);
    return;
  }
  const module = (await import('ffi-rs')) as unknown as FfiBinding & { default?: FfiBinding };
  useBinding(typeof module.open === 'function' ? module : module.default!);
}

function ffi(): FfiBinding {
  if (binding) return binding;
  const direct = directBinding();
  if (direct) return useBinding(direct);
  // A synchronous caller (openNetlinkSync) before any openNetlink: CommonJS require of the entry point.
  return useBinding(nodeModule().createRequire(import.meta.url)('ffi-rs') as FfiBinding);
}

function call(library: string, funcName: string, retType: number, paramsType: number[], paramsValue: unknown[]): unknown {
  return ffi().load({ library, funcName, retType, paramsType, paramsValue, freeResultMemory: false });
}

function callErrno(
  funcName: string,
  retType: number,
  paramsType: number[],
  paramsValue: unknown[],
): { value: number; errnoCode: number } {
  return ffi().load({ library: 'libc', funcName, retType, paramsType, paramsValue, errno: true, freeResultMemory: false }) as {
    value: number;
    errnoCode: number;
  };
}

/** A failed system call, with its positive errno. */
export class SyscallError extends Error {
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call} failed with errno ${errno}`);
    this.errno = errno;
  }
}

/**
 * Run `fn` with the calling thread inside the namespace `netnsFd` (synchronously, always coming
 * back), through @cni/netns; a refused setns is a {@link SyscallError} with its errno, as before.
 */
function inNetns<T extends number>(netnsFd: number, fn: () => T): T {
  try {
    return withNetns(netnsFd, fn) as T;
  } catch (error) {
    if (NetnsError.isInstance(error) && SysError.isInstance(error.cause) && error.cause.syscall === 'setns' && !/return to the original/.test(error.message)) {
      throw new SyscallError('setns', error.cause.errno);
    }
    throw error;
  }
}

const BUFFER_SIZE = 1 << 18;

/**
 * An rtnetlink socket made by libnl, with native send and receive buffers that JavaScript sees
 * as Buffers (no copy on either side).
 */
export class RawSocket {
  readonly #sock: Pointer;
  readonly #fd: number;
  readonly #sendPtr: Pointer;
  readonly #recvPtr: Pointer;
  /** What the next message to send is written into; {@link RawSocket.send} sends its first bytes. */
  readonly sendBuffer: Buffer;
  /** What {@link RawSocket.receive} fills. */
  readonly receiveBuffer: Buffer;
  #closed = false;

  private constructor(sock: Pointer, fd: number) {
    this.#sock = sock;
    this.#fd = fd;
    const lib = ffi();
    this.#sendPtr = call('libc', 'malloc', EXTERNAL, [U64], [BUFFER_SIZE]) as Pointer;
    this.#recvPtr = call('libc', 'malloc', EXTERNAL, [U64], [BUFFER_SIZE]) as Pointer;
    this.sendBuffer = lib.createExternalBuffer(this.#sendPtr, BUFFER_SIZE);
    this.receiveBuffer = lib.createExternalBuffer(this.#recvPtr, BUFFER_SIZE);
    // Ask for error texts (extended ack) and for errors without a copy of the request.
    this.sendBuffer.writeInt32LE(1, 0);
    for (const option of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
      callErrno('setsockopt', I32, [I32, I32, I32, EXTERNAL, I32], [fd, SOL_NETLINK, option, this.#sendPtr, 4]);
    }
  }

  /**
   * Opens an rtnetlink socket; with `netnsFd`, the socket is created inside that namespace (the
   * calling thread enters it synchronously and always returns), and stays bound to it for life.
   */
  static open(netnsFd?: number): RawSocket {
    const sock = call('libnl-3', 'nl_socket_alloc', EXTERNAL, [], []) as Pointer;
    if (ffi().isNullPointer(sock)) throw new SyscallError('nl_socket_alloc', 12);
    let connected: number;
    if (netnsFd === undefined) {
      connected = call('libnl-3', 'nl_connect', I32, [EXTERNAL, I32], [sock, NETLINK_ROUTE]) as number;
    } else {
      try {
        connected = inNetns(netnsFd, () => call('libnl-3', 'nl_connect', I32, [EXTERNAL, I32], [sock, NETLINK_ROUTE]) as number);
      } catch (error) {
        call('libnl-3', 'nl_socket_free', VOID, [EXTERNAL], [sock]);
        throw error;
      }
    }
    if (connected < 0) {
      const text = call('libnl-3', 'nl_geterror', STRING, [I32], [connected]) as string;
      call('libnl-3', 'nl_socket_free', VOID, [EXTERNAL], [sock]);
      throw new Error(`nl_connect failed: ${text}`);
    }
    const fd = call('libnl-3', 'nl_socket_get_fd', I32, [EXTERNAL], [sock]) as number;
    return new RawSocket(sock, fd);
  }

  /** Sends the first `length` bytes of {@link RawSocket.sendBuffer}. */
  send(length: number): void {
    const sent = callErrno('send', I64, [I32, EXTERNAL, U64, I32], [this.#fd, this.#sendPtr, length, 0]);
    if (sent.value < 0) throw new SyscallError('send', sent.errnoCode);
  }

  /** Receives one datagram into {@link RawSocket.receiveBuffer}; returns its length. */
  receive(): number {
    for (;;) {
      const got = callErrno('recv', I64, [I32, EXTERNAL, U64, I32], [this.#fd, this.#recvPtr, BUFFER_SIZE, 0]);
      if (got.value >= 0) return got.value;
      if (got.errnoCode !== 4) throw new SyscallError('recv', got.errnoCode);
    }
  }

  /** Frees the socket and its buffers; later calls are no-ops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    call('libnl-3', 'nl_socket_free', VOID, [EXTERNAL], [this.#sock]);
    call('libc', 'free', VOID, [EXTERNAL], [this.#sendPtr]);
    call('libc', 'free', VOID, [EXTERNAL], [this.#recvPtr]);
  }
}

/**
 * Creates a persistent tun or tap device the way `ip tuntap add` does (rtnetlink cannot create
 * them: the tun driver refuses RTM_NEWLINK). Runs inside `netnsFd` when given, since the device
 * is created in the namespace that opened /dev/net/tun.
 */
export function createTunTap(
  netnsFd: number | undefined,
  request: { name: string; flags: number; owner?: number; group?: number },
): void {
  const TUNSETIFF = 0x400454ca;
  const TUNSETPERSIST = 0x400454cb;
  const TUNSETOWNER = 0x400454cc;
  const TUNSETGROUP = 0x400454ce;
  // The device is made in the namespace that opened /dev/net/tun.
  const openTun = (): number => nodeFs().openSync('/dev/net/tun', 'r+');
  const tun = netnsFd === undefined ? openTun() : inNetns(netnsFd, openTun);
  const ifreq = call('libc', 'calloc', EXTERNAL, [U64, U64], [1, 64]) as Pointer;
  try {
    const view = ffi().createExternalBuffer(ifreq, 64);
    view.write(request.name, 0, 15, 'utf8');
    view.writeUInt16LE(request.flags, 16);
    const ioctl = (op: string, command: number, arg: Pointer | number): void => {
      const types = [I32, U64, typeof arg === 'number' ? U64 : EXTERNAL];
      const done = callErrno('ioctl', I32, types, [tun, command, arg]);
      if (done.value < 0) throw new SyscallError(op, done.errnoCode);
    };
    ioctl('TUNSETIFF', TUNSETIFF, ifreq);
    if (request.owner !== undefined) ioctl('TUNSETOWNER', TUNSETOWNER, request.owner);
    if (request.group !== undefined) ioctl('TUNSETGROUP', TUNSETGROUP, request.group);
    ioctl('TUNSETPERSIST', TUNSETPERSIST, 1);
  } finally {
    call('libc', 'free', VOID, [EXTERNAL], [ifreq]);
    nodeFs().closeSync(tun);
  }
}
