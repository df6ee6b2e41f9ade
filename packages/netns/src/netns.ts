// SPDX-License-Identifier: Apache-2.0
import { access, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, statSync, statfsSync, unlinkSync, constants as fs } from 'node:fs';
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, SysError, mount, setns, umount, unshare } from '@cni/sys';
import { NetnsError, NetnsExistsError, NetnsNotFoundError, NotANetnsError } from './errors.ts';

/** Where named namespaces live, as iproute2's `NETNS_RUN_DIR`. */
export const NETNS_RUN_DIR = '/var/run/netns';

/** The filesystem magic of namespace files (`NSFS_MAGIC` in <linux/magic.h>). */
export const NSFS_MAGIC = 0x6e736673;

/** The current thread's network namespace, whichever thread calls. (libuv opens every file with O_CLOEXEC.) */
const THREAD_NETNS = '/proc/thread-self/ns/net';

function errnoCode(error: unknown): string | undefined {
  if (SysError.isInstance(error)) return error.code;
  return typeof error === 'object' && error !== null ? ((error as { code?: unknown }).code as string | undefined) : undefined;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * An open network namespace: a path and a file descriptor that keeps the namespace alive
 * while open, even once its path is deleted. Close it when done (`using ns = openNetns(...)`
 * closes it at the end of the block).
 */
export class Netns {
  /** The path it was opened from, e.g. `/var/run/netns/c1` or `/proc/1234/task/1234/ns/net`. */
  readonly path: string;
  #fd: number | undefined;

  /** @internal Use {@link openNetns}, {@link getCurrentNetns} or {@link createNetns}. */
  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** The file descriptor, for `setns` or a netlink `IFLA_NET_NS_FD`; throws once closed. */
  get fd(): number {
    if (this.#fd === undefined) throw new NetnsError(`netns "${this.path}" is closed`, { path: this.path });
    return this.#fd;
  }

  /** True once {@link Netns.close} ran. */
  get closed(): boolean {
    return this.#fd === undefined;
  }

  /** Close the file descriptor; the namespace lives on while a path or a process holds it. Safe to call twice. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }

  /** Close on leaving a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Run `fn` synchronously inside this namespace; see {@link withNetns}. */
  run<T>(fn: (netns: Netns) => T): Synchronous<T> {
    return withNetns(this, fn);
  }
}

/**
 * True when `path` is a namespace file (nsfs), as `/var/run/netns/<name>` or
 * `/proc/<pid>/ns/net` are. Any error (missing path, no permission) gives false.
 */
export function isNetns(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Open a network namespace by path, checking that it is one.
 *
 * Throws {@link NetnsNotFoundError} when the path does not exist and {@link NotANetnsError}
 * when it is not a namespace file. Equivalent to upstream's `ns.GetNS(path)`.
 */
export function openNetns(path: string): Netns {
  let magic: number;
  try {
    magic = statfsSync(path).type;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new NetnsNotFoundError(path, { cause: error });
    throw new NetnsError(`failed to open netns "${path}": ${reason(error)}`, { path, cause: error });
  }
  if (magic !== NSFS_MAGIC) throw new NotANetnsError(path, magic);
  let fd: number;
  try {
    fd = openSync(path, fs.O_RDONLY);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new NetnsNotFoundError(path, { cause: error });
    throw new NetnsError(`failed to open netns "${path}": ${reason(error)}`, { path, cause: error });
  }
  return new Netns(path, fd);
}

/**
 * The network namespace of the calling thread, opened. Its path names the thread
 * (`/proc/<pid>/task/<tid>/ns/net`), as upstream's `ns.GetCurrentNS()`.
 */
export function getCurrentNetns(): Netns {
  // /proc/thread-self links to "<pid>/task/<tid>": a stable name for this thread's namespace.
  return openNetns(`/proc/${readlinkSync('/proc/thread-self')}/ns/net`);
}

/** The identity of a namespace: the device and inode of its nsfs file. */
function identity(netns: Netns | string): string {
  try {
    const stats = typeof netns === 'string' ? statSync(netns) : fstatSync(netns.fd);
    return `${stats.dev}:${stats.ino}`;
  } catch (error) {
    const path = typeof netns === 'string' ? netns : netns.path;
    if (errnoCode(error) === 'ENOENT') throw new NetnsNotFoundError(path, { cause: error });
    throw new NetnsError(`failed to open netns "${path}": ${reason(error)}`, { path, cause: error });
  }
}

/**
 * True when both refer to the same namespace (same nsfs inode), whatever the paths: skel uses it
 * to refuse a `CNI_NETNS` that is the plugin's own namespace.
 */
export function isSameNetns(a: Netns | string, b: Netns | string): boolean {
  return identity(a) === identity(b);
}

/** Options of {@link createNetns} and {@link deleteNetns}. */
export interface NetnsRunDirOptions {
  /** Where named namespaces live; {@link NETNS_RUN_DIR} when left out. */
  runDir?: string;
}

/** Refuse names `ip netns` refuses: empty, `.`, `..`, or with a slash. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > 255) {
    throw new NetnsError(`invalid netns name "${name}": must be 1 to 255 bytes, not "." or "..", without "/"`);
  }
}

/**
 * Make the run directory a shared mount point, as iproute2 does before every `ip netns add`:
 * namespaces mounted under it then show in other mount namespaces (`ip netns exec`, containers).
 */
function makeRunDirShared(runDir: string): void {
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  try {
    mount(null, runDir, 'none', MS_SHARED | MS_REC);
  } catch (error) {
    // EINVAL: not a mount point yet. Bind it onto itself to make it one, then try again.
    if (!SysError.isInstance(error) || error.code !== 'EINVAL') throw error;
    mount(runDir, runDir, 'none', MS_BIND | MS_REC);
    mount(null, runDir, 'none', MS_SHARED | MS_REC);
  }
}

/**
 * Create a named network namespace the way `ip netns add <name>` does, and give it opened:
 * a new namespace bind-mounted on `/var/run/netns/<name>`, which iproute2 then lists and enters.
 *
 * The calling thread unshares into the new namespace only for the bind mount and is moved
 * back before this returns, also on failure. Throws {@link NetnsExistsError} when the name is taken.
 *
 * Equivalent to `ip netns add <name>`.
 */
export function createNetns(name: string, options: NetnsRunDirOptions = {}): Netns {
  checkName(name);
  const runDir = options.runDir ?? NETNS_RUN_DIR;
  const path = `${runDir}/${name}`;
  try {
    makeRunDirShared(runDir);
  } catch (error) {
    throw new NetnsError(`failed to create netns "${path}": failed to make "${runDir}" a shared mount: ${reason(error)}`, { path, cause: error });
  }
  try {
    // The mount point; O_EXCL so that an existing namespace is never mounted over.
    closeSync(openSync(path, fs.O_RDONLY | fs.O_CREAT | fs.O_EXCL, 0o000));
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw new NetnsExistsError(path, { cause: error });
    throw new NetnsError(`failed to create netns "${path}": ${reason(error)}`, { path, cause: error });
  }
  let original: number;
  try {
    original = openSync(THREAD_NETNS, fs.O_RDONLY);
  } catch (error) {
    unlinkSync(path);
    throw new NetnsError(`failed to create netns "${path}": failed to open the current netns: ${reason(error)}`, { path, cause: error });
  }
  try {
    try {
      unshare(CLONE_NEWNET);
      mount(THREAD_NETNS, path, 'none', MS_BIND);
    } finally {
      restore(original, `failed to create netns "${path}"`);
    }
  } catch (error) {
    try {
      unlinkSync(path);
    } catch {
      // Nothing more to undo: the file was ours, and a failed mount left nothing on it.
    }
    if (NetnsError.isInstance(error)) throw error;
    throw new NetnsError(`failed to create netns "${path}": ${reason(error)}`, { path, cause: error });
  } finally {
    closeSync(original);
  }
  return openNetns(path);
}

/**
 * Delete a named namespace the way `ip netns delete` does: detach its mount, then remove its
 * file. The namespace itself lives on while a process or an open {@link Netns} holds it.
 * Takes a name (under `/var/run/netns`), a path, or an open Netns (which stays open).
 * Throws {@link NetnsNotFoundError} when there is nothing at that path.
 *
 * Equivalent to `ip netns delete <name>`.
 */
export function deleteNetns(target: string | Netns, options: NetnsRunDirOptions = {}): void {
  let path: string;
  if (typeof target !== 'string') path = target.path;
  else if (target.includes('/')) path = target;
  else {
    checkName(target);
    path = `${options.runDir ?? NETNS_RUN_DIR}/${target}`;
  }
  try {
    lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new NetnsNotFoundError(path, { cause: error, operation: 'delete' });
    throw new NetnsError(`failed to delete netns "${path}": ${reason(error)}`, { path, cause: error });
  }
  try {
    umount(path, MNT_DETACH);
  } catch (error) {
    // EINVAL: nothing is mounted there (a half-made namespace); the file still goes.
    if (!SysError.isInstance(error) || error.code !== 'EINVAL') {
      throw new NetnsError(`failed to delete netns "${path}": ${reason(error)}`, { path, cause: error });
    }
  }
  try {
    unlinkSync(path);
  } catch (error) {
    throw new NetnsError(`failed to delete netns "${path}": ${reason(error)}`, { path, cause: error });
  }
}

/** Move the thread back into `original`; failing that, the thread is lost to the wrong namespace. */
function restore(original: number, context: string): void {
  try {
    setns(original, CLONE_NEWNET);
  } catch (error) {
    throw new NetnsError(
      `${context}: failed to return to the original netns, the thread is left in another namespace: ${reason(error)}`,
      { cause: error },
    );
  }
}

/** The result of a synchronous callback; `never` for a promise, which {@link withNetns} refuses. */
export type Synchronous<T> = T extends PromiseLike<unknown> ? never : T;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

let threadPoolStarted = false;

/**
 * libuv starts its thread pool on first use, and a new thread is born in the namespaces of the
 * thread that creates it. Were the first `fs.promises` call or DNS lookup of the process made
 * inside {@link withNetns}, the whole pool would live in that namespace for good (measured: an
 * async read of /proc/thread-self/net/dev then shows the container's interfaces long after). So the pool is
 * started here, from the original namespace, before the first switch.
 */
function startThreadPool(): void {
  if (threadPoolStarted) return;
  threadPoolStarted = true;
  access('/', () => undefined);
}

/**
 * Run `fn` inside the network namespace `netns` on the calling thread, and always return to
 * the original namespace afterwards, also when `fn` throws. Takes an open {@link Netns}, a
 * path (opened and closed around the call) or an open descriptor (left open).
 *
 * `fn` must be synchronous: only the calling thread moves, so anything it leaves for later (a
 * promise, a callback, `fs.promises`, `dgram` binding on a later tick) would run in the host
 * namespace. An `fn` that returns a promise or thenable makes this throw a {@link NetnsError}
 * (after the namespace is restored). Sockets made inside (netlink, `@cni/sys` `createSocket`)
 * stay in the namespace for their whole life, so make them here and use them later.
 *
 * Equivalent to upstream's `ns.WithNetNSPath(path, fn)` and `netns.Do(fn)`.
 *
 * @example
 * ```ts
 * const forwarding = withNetns('/var/run/netns/c1', () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'));
 * ```
 */
export function withNetns<T>(netns: Netns | string | number, fn: (netns: Netns) => T): Synchronous<T> {
  // A number is a descriptor the caller owns (a netlink handle's IFLA_NET_NS_FD): left open.
  const target = typeof netns === 'string' ? openNetns(netns) : typeof netns === 'number' ? new Netns(`fd ${netns}`, netns) : netns;
  try {
    let original: number;
    try {
      original = openSync(THREAD_NETNS, fs.O_RDONLY);
    } catch (error) {
      throw new NetnsError(`failed to open the current netns: ${reason(error)}`, { cause: error });
    }
    let result: T;
    try {
      startThreadPool();
      try {
        setns(target.fd, CLONE_NEWNET);
      } catch (error) {
        throw new NetnsError(`failed to enter netns "${target.path}": ${reason(error)}`, { path: target.path, cause: error });
      }
      try {
        result = fn(target);
      } finally {
        restore(original, `withNetns "${target.path}"`);
      }
    } finally {
      closeSync(original);
    }
    if (isThenable(result)) {
      // Keep a rejection of the stray promise from crashing the process: this error reports it.
      Promise.resolve(result).catch(() => undefined);
      throw new NetnsError(
        `withNetns "${target.path}": the callback returned a promise; it must be synchronous, since asynchronous work runs in the original namespace`,
        { path: target.path },
      );
    }
    return result as Synchronous<T>;
  } finally {
    if (typeof netns === 'string') target.close();
  }
}
