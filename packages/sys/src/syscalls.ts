// SPDX-License-Identifier: Apache-2.0
import { LOCK_NB, MSG_DONTWAIT, MSG_TRUNC, SOL_SOCKET, SO_BINDTODEVICE, SO_BROADCAST, SO_REUSEADDR, SOCK_CLOEXEC, SOCK_NONBLOCK } from './constants.ts';
import { SysError } from './errors.ts';
import { libc, libcOnThread, T, type CallResult } from './internal/ffi.ts';
import { decodeSocketAddress, encodeSocketAddress, type SocketAddress } from './sockaddr.ts';

/** Throw the call's errno as a SysError when it returned -1, else give its value. */
function check(syscall: string, target: string | undefined, result: CallResult): number {
  if (result.value >= 0) return result.value;
  throw new SysError(syscall, result.errno, { description: result.message, ...(target === undefined ? {} : { target }) });
}

/** A string argument, or a null pointer when absent. */
function stringOrNull(value: string | null | undefined): [type: number, value: string | number] {
  return value === null || value === undefined ? [T.U64, 0] : [T.String, value];
}

function checkFd(syscall: string, fd: number): void {
  if (!Number.isInteger(fd) || fd < 0) throw new SysError(syscall, 9, { target: String(fd), description: 'bad file descriptor' });
}

/**
 * Move the calling thread into the namespace `fd` refers to (`setns(2)`). `nstype` (e.g.
 * `CLONE_NEWNET`) makes the kernel check the kind of namespace; 0 accepts any.
 *
 * Only the calling thread moves: on Node's main thread, synchronous work after this call runs in
 * the namespace, while the thread pool (fs.promises, dns) stays where it was.
 */
export function setns(fd: number, nstype = 0): void {
  checkFd('setns', fd);
  check('setns', String(fd), libc('setns', T.I32, [T.I32, T.I32], [fd, nstype]));
}

/**
 * Move the calling thread into new namespaces (`unshare(2)`), e.g. `unshare(CLONE_NEWNET)`.
 * A new network namespace is then the calling thread's; keep a handle on the old one to go back.
 */
export function unshare(flags: number): void {
  check('unshare', undefined, libc('unshare', T.I32, [T.I32], [flags]));
}

/**
 * Attach a filesystem or change a mount's flags (`mount(2)`). Give null for the arguments the
 * flags make the kernel ignore (source and type of a propagation change, data of a bind mount).
 *
 * @example
 * ```ts
 * mount('/proc/self/ns/net', '/var/run/netns/c1', null, MS_BIND); // mount --bind
 * mount(null, '/var/run/netns', null, MS_SHARED | MS_REC);          // mount --make-rshared
 * ```
 */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  const [sourceType, sourceValue] = stringOrNull(source);
  const [fsType, fsValue] = stringOrNull(fstype);
  const [dataType, dataValue] = stringOrNull(data);
  check(
    'mount',
    target,
    libc('mount', T.I32, [sourceType, T.String, fsType, T.U64, dataType], [sourceValue, target, fsValue, flags, dataValue]),
  );
}

/** Detach a mount (`umount2(2)`); `MNT_DETACH` for a lazy unmount, as `umount -l`. */
export function umount(target: string, flags = 0): void {
  check('umount2', target, libc('umount2', T.I32, [T.String, T.I32], [target, flags]));
}

/**
 * Apply or remove an advisory lock on an open file (`flock(2)`), e.g. `LOCK_EX`, `LOCK_SH`,
 * `LOCK_UN`. Without `LOCK_NB` this waits, blocking the event loop: use {@link flockAsync} for
 * a lock another process may hold for long. With `LOCK_NB` a held lock throws a SysError with
 * tag `WouldBlock`.
 */
export function flock(fd: number, operation: number): void {
  checkFd('flock', fd);
  check('flock', String(fd), libc('flock', T.I32, [T.I32, T.I32], [fd, operation]));
}

/**
 * Try to take a lock without waiting: true when taken, false when another open file holds it.
 * Equivalent to `flock -n`.
 */
export function tryFlock(fd: number, operation: number): boolean {
  checkFd('flock', fd);
  const result = libc('flock', T.I32, [T.I32, T.I32], [fd, operation | LOCK_NB]);
  if (result.value === 0) return true;
  if (result.errno === 11) return false;
  return check('flock', String(fd), result) === 0;
}

/**
 * {@link flock} on a separate thread, so that waiting for the lock leaves the event loop free.
 * The lock belongs to the open file, not to a thread, so the caller holds it when this resolves.
 */
export async function flockAsync(fd: number, operation: number): Promise<void> {
  checkFd('flock', fd);
  check('flock', String(fd), await libcOnThread('flock', T.I32, [T.I32, T.I32], [fd, operation]));
}

/**
 * Create a socket (`socket(2)`) and give its file descriptor. `SOCK_CLOEXEC` is always added,
 * so that plugins' child processes do not inherit it.
 *
 * The socket belongs to the network namespace of the calling thread at this moment, for its
 * whole life: create it inside `withNetns` to have one in a container.
 */
export function socket(domain: number, type: number, protocol = 0): number {
  return check('socket', undefined, libc('socket', T.I32, [T.I32, T.I32, T.I32], [domain, type | SOCK_CLOEXEC, protocol]));
}

/**
 * Set a socket option (`setsockopt(2)`). A number or boolean is passed as a C `int`, a string
 * as its bytes (as `SO_BINDTODEVICE` wants an interface name), a Buffer as is.
 */
export function setsockopt(fd: number, level: number, option: number, value: number | boolean | string | Buffer): void {
  checkFd('setsockopt', fd);
  let bytes: Buffer;
  if (typeof value === 'number' || typeof value === 'boolean') {
    bytes = Buffer.alloc(4);
    bytes.writeInt32LE(Number(value));
  } else if (typeof value === 'string') {
    bytes = Buffer.from(`${value}\0`);
  } else {
    bytes = value;
  }
  // An empty buffer would make ffi-rs pass a dangling pointer; the kernel reads nothing of it.
  const data = bytes.length === 0 ? Buffer.alloc(1) : bytes;
  check(
    'setsockopt',
    String(fd),
    libc('setsockopt', T.I32, [T.I32, T.I32, T.I32, T.U8Array, T.U32], [fd, level, option, data, bytes.length]),
  );
}

/** Read a socket option (`getsockopt(2)`) into a buffer of up to `size` bytes; gives the bytes the kernel wrote. */
export function getsockopt(fd: number, level: number, option: number, size = 4): Buffer {
  checkFd('getsockopt', fd);
  const data = Buffer.alloc(Math.max(size, 1));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(size);
  check('getsockopt', String(fd), libc('getsockopt', T.I32, [T.I32, T.I32, T.I32, T.U8Array, T.U8Array], [fd, level, option, data, length]));
  return data.subarray(0, length.readUInt32LE(0));
}

/** Read an `int` socket option, e.g. `getsockoptInt(fd, SOL_SOCKET, SO_BROADCAST)`. */
export function getsockoptInt(fd: number, level: number, option: number): number {
  return getsockopt(fd, level, option, 4).readInt32LE(0);
}

/** Bind a socket to a local address (`bind(2)`). */
export function bind(fd: number, address: SocketAddress): void {
  checkFd('bind', fd);
  const bytes = encodeSocketAddress(address);
  check('bind', String(fd), libc('bind', T.I32, [T.I32, T.U8Array, T.U32], [fd, bytes, bytes.length]));
}

/** The local address a socket is bound to (`getsockname(2)`). */
export function getsockname(fd: number): SocketAddress | undefined {
  checkFd('getsockname', fd);
  const bytes = Buffer.alloc(128);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  check('getsockname', String(fd), libc('getsockname', T.I32, [T.I32, T.U8Array, T.U8Array], [fd, bytes, length]));
  return decodeSocketAddress(bytes, length.readUInt32LE(0));
}

/** Close a file descriptor (`close(2)`). */
export function close(fd: number): void {
  checkFd('close', fd);
  check('close', String(fd), libc('close', T.I32, [T.I32], [fd]));
}

/**
 * Send a datagram (`sendto(2)`), to `address` or to the connected peer; gives the bytes sent.
 * A non-blocking socket whose buffer is full throws a SysError with tag `WouldBlock`.
 */
export function sendTo(fd: number, data: Buffer, address?: SocketAddress, flags = 0): number {
  checkFd('sendto', fd);
  const payload = data.length === 0 ? Buffer.alloc(1) : data;
  if (address === undefined) {
    return check('sendto', String(fd), libc('sendto', T.I64, [T.I32, T.U8Array, T.U64, T.I32, T.U64, T.U32], [fd, payload, data.length, flags, 0, 0]));
  }
  const bytes = encodeSocketAddress(address);
  return check(
    'sendto',
    String(fd),
    libc('sendto', T.I64, [T.I32, T.U8Array, T.U64, T.I32, T.U8Array, T.U32], [fd, payload, data.length, flags, bytes, bytes.length]),
  );
}

/** One datagram read by {@link recvFrom}. */
export interface ReceivedDatagram {
  /** The bytes received (a view of the buffer given). */
  data: Buffer;
  /** The sender, when the family is one @cni/sys speaks. */
  from: SocketAddress | undefined;
  /** True when the datagram was longer than the buffer and was cut. */
  truncated: boolean;
}

/**
 * Receive one datagram (`recvfrom(2)`) into `buffer`, without waiting (`MSG_DONTWAIT` is
 * added): nothing queued throws a SysError with tag `WouldBlock`. Wait with {@link poll}.
 * `MSG_TRUNC` is added too, so that a datagram longer than the buffer is reported as cut;
 * for datagram and packet sockets only (on a stream it would discard bytes).
 */
export function recvFrom(fd: number, buffer: Buffer, flags = 0): ReceivedDatagram {
  checkFd('recvfrom', fd);
  const from = Buffer.alloc(128);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(from.length);
  const size = check(
    'recvfrom',
    String(fd),
    libc('recvfrom', T.I64, [T.I32, T.U8Array, T.U64, T.I32, T.U8Array, T.U8Array], [fd, buffer, buffer.length, flags | MSG_DONTWAIT | MSG_TRUNC, from, length]),
  );
  return { data: buffer.subarray(0, Math.min(size, buffer.length)), from: decodeSocketAddress(from, length.readUInt32LE(0)), truncated: size > buffer.length };
}

/** A file descriptor and the events to wait for, for {@link poll}. */
export interface PollRequest {
  fd: number;
  /** `POLLIN`, `POLLOUT`, or both. */
  events: number;
}

function pollBuffer(requests: readonly PollRequest[]): Buffer {
  const buffer = Buffer.alloc(Math.max(requests.length, 1) * 8);
  requests.forEach((request, index) => {
    buffer.writeInt32LE(request.fd, index * 8);
    buffer.writeInt16LE(request.events, index * 8 + 4);
  });
  return buffer;
}

function pollResult(buffer: Buffer, requests: readonly PollRequest[]): number[] {
  return requests.map((_, index) => buffer.readInt16LE(index * 8 + 6));
}

/**
 * Wait until one of the file descriptors is ready (`poll(2)`), for up to `timeoutMs`
 * (0: do not wait; -1: forever). Gives the returned events of each request, 0 when not ready.
 * It blocks the calling thread: keep timeouts short, or use {@link pollAsync}.
 */
export function poll(requests: readonly PollRequest[], timeoutMs: number): number[] {
  const buffer = pollBuffer(requests);
  check('poll', undefined, libc('poll', T.I32, [T.U8Array, T.U64, T.I32], [buffer, requests.length, timeoutMs]));
  return pollResult(buffer, requests);
}

/** {@link poll} on a separate thread, so that the event loop keeps running while it waits. */
export async function pollAsync(requests: readonly PollRequest[], timeoutMs: number): Promise<number[]> {
  const buffer = pollBuffer(requests);
  check('poll', undefined, await libcOnThread('poll', T.I32, [T.U8Array, T.U64, T.I32], [buffer, requests.length, timeoutMs]));
  return pollResult(buffer, requests);
}

/** Options of {@link createSocket}. */
export interface CreateSocketOptions {
  /** Address family, e.g. `AF_INET`, `AF_PACKET`. */
  domain: number;
  /** Socket type, e.g. `SOCK_DGRAM`, `SOCK_RAW`. */
  type: number;
  /** Protocol; for `AF_PACKET` the Ethernet protocol in network order, e.g. `htons(ETH_P_IP)`. */
  protocol?: number;
  /** Non-blocking (the default), as a socket polled from an event loop must be. */
  nonBlocking?: boolean;
  /** `SO_BINDTODEVICE`: send and receive only through this interface. */
  bindToDevice?: string;
  /** `SO_REUSEADDR`. */
  reuseAddress?: boolean;
  /** `SO_BROADCAST`. */
  broadcast?: boolean;
  /** Bind to this local address once the options are set. */
  bind?: SocketAddress;
}

/**
 * Create a socket, set its options and bind it, in one synchronous call: the socket a DHCP
 * client needs inside a container is made with `withNetns(ns, () => createSocket({...}))`.
 * The file descriptor is closed again when any step fails.
 *
 * A UDP socket made this way can be handed to Node's `dgram` with
 * `dgram.createSocket('udp4').bind({ fd })`; it stays in the namespace it was made in.
 */
export function createSocket(options: CreateSocketOptions): number {
  const fd = socket(options.domain, options.type | (options.nonBlocking === false ? 0 : SOCK_NONBLOCK), options.protocol ?? 0);
  try {
    if (options.reuseAddress) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.broadcast) setsockopt(fd, SOL_SOCKET, SO_BROADCAST, 1);
    if (options.bindToDevice !== undefined) setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, options.bindToDevice);
    if (options.bind) bind(fd, options.bind);
    return fd;
  } catch (error) {
    close(fd);
    throw error;
  }
}

/** A 16-bit value in network byte order, as `AF_PACKET` protocols are given (`htons(3)`). */
export function htons(value: number): number {
  return ((value & 0xff) << 8) | ((value >> 8) & 0xff);
}
