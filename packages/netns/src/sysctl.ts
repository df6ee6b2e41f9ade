// SPDX-License-Identifier: Apache-2.0
import { closeSync, openSync, readFileSync, writeSync, constants as fs } from 'node:fs';
import { SysctlError } from './errors.ts';
import { withNetns, type Netns } from './netns.ts';

/** Options of {@link sysctlPath}. */
export interface SysctlPathOptions {
  /**
   * Put this interface name where the key has an `IFNAME` component, after the separators are
   * converted, so that its dots stay dots: `net.ipv4.conf.IFNAME.rp_filter` with `eth0.100`
   * gives `/proc/sys/net/ipv4/conf/eth0.100/rp_filter`. As upstream's tuning plugin does.
   */
  ifname?: string;
}

/** Options of {@link readSysctl} and {@link writeSysctl}. */
export interface SysctlOptions extends SysctlPathOptions {
  /** The namespace to read or write in (an open Netns or a path); the calling thread's when left out. */
  netns?: Netns | string;
}

/**
 * Sysctl keys use dots or slashes as separators (sysctl(8) and upstream's `utils/sysctl`): the
 * first separator decides. With dots, dots and slashes are swapped, so a dot inside a
 * component is written as a slash (`net.ipv4.conf.eth0/100.rp_filter`); with slashes, dots
 * are left alone (`net/ipv4/conf/eth0.100/rp_filter`).
 */
function toSlashes(key: string): string {
  const dot = key.indexOf('.');
  const slash = key.indexOf('/');
  if (dot === -1 || (slash !== -1 && slash < dot)) return key;
  return key.replace(/[./]/g, (separator) => (separator === '.' ? '/' : '.'));
}

function refuse(key: string, why: string): SysctlError {
  return new SysctlError(key, `invalid net sysctl key "${key}": ${why}`);
}

/**
 * The `/proc/sys` file of a network sysctl key, validated: only `net.*` keys, and no empty,
 * `.` or `..` component, so a key cannot reach outside `/proc/sys/net`. Throws a
 * {@link SysctlError} for a refused key.
 *
 * @example
 * ```ts
 * sysctlPath('net.ipv4.conf.eth0/100.rp_filter'); // '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'
 * sysctlPath('net.ipv6.conf.IFNAME.accept_ra', { ifname: 'eth0.100' }); // '/proc/sys/net/ipv6/conf/eth0.100/accept_ra'
 * ```
 */
export function sysctlPath(key: string, options: SysctlPathOptions = {}): string {
  if (key.includes('\0')) throw refuse(key, 'contains a NUL byte');
  const components = toSlashes(key).split('/');
  const { ifname } = options;
  if (ifname !== undefined) {
    if (ifname === '' || ifname === '.' || ifname === '..' || /[/\0]/.test(ifname)) {
      throw refuse(key, `invalid interface name "${ifname}"`);
    }
    const at = components.indexOf('IFNAME');
    if (at !== -1) components[at] = ifname;
  }
  if (components[0] !== 'net' || components.length < 2) throw refuse(key, 'only net.* keys may be read or written');
  for (const component of components) {
    if (component === '' || component === '.' || component === '..') throw refuse(key, `component "${component}" is not allowed`);
  }
  return `/proc/sys/${components.join('/')}`;
}

function inNetns<T>(netns: Netns | string | undefined, fn: () => T): T {
  // /proc/sys/net shows the namespace of the thread that opens the file: a synchronous open on
  // this thread, inside withNetns, reads the container's value (the thread pool would not).
  return netns === undefined ? fn() : (withNetns(netns, fn) as T);
}

function failure(key: string, action: string, path: string, error: unknown): SysctlError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const text = code === 'ENOENT' ? 'no such sysctl' : error instanceof Error ? error.message : String(error);
  return new SysctlError(key, `failed to ${action} sysctl "${key}" (${path}): ${text}`, {
    cause: error,
    ...(typeof code === 'string' ? { code } : {}),
  });
}

/**
 * Read a network sysctl, without its trailing newline, in `options.netns` or the calling
 * thread's namespace. Equivalent to `ip netns exec <ns> sysctl -n <key>`.
 */
export function readSysctl(key: string, options: SysctlOptions = {}): string {
  const path = sysctlPath(key, options);
  return inNetns(options.netns, () => {
    try {
      return readFileSync(path, 'utf8').replace(/\n$/, '');
    } catch (error) {
      throw failure(key, 'read', path, error);
    }
  });
}

/**
 * Write a network sysctl in `options.netns` or the calling thread's namespace. An unknown key
 * fails with code `ENOENT` (the file is never created). Equivalent to
 * `ip netns exec <ns> sysctl -w <key>=<value>`.
 */
export function writeSysctl(key: string, value: string | number, options: SysctlOptions = {}): void {
  const path = sysctlPath(key, options);
  inNetns(options.netns, () => {
    let fd: number | undefined;
    try {
      fd = openSync(path, fs.O_WRONLY);
      writeSync(fd, String(value));
    } catch (error) {
      throw failure(key, 'write', path, error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}
