// SPDX-License-Identifier: Apache-2.0
import { AddressApi } from './address.ts';
import { NetlinkError } from './errors.ts';
import { Connection } from './internal/connection.ts';
import { loadFfi, RawSocket, SyscallError } from './internal/ffi/libnl.ts';
import { nodeFs } from './internal/node.ts';
import { LinkApi } from './link.ts';
import { NeighbourApi } from './neighbour.ts';
import { RouteApi } from './route.ts';
import { RuleApi } from './rule.ts';
import { FilterApi, QdiscApi } from './tc.ts';
import type { NetnsRef } from './types.ts';
import { VfApi } from './vf.ts';
import { ClassApi } from './tc-class.ts';

/** Options of {@link openNetlink}. */
export interface NetlinkOptions {
  /**
   * The namespace the handle acts in, by path or descriptor; default the caller's current one.
   * The socket is created inside it and stays bound to it: the process never has to enter it.
   */
  readonly netns?: NetnsRef;
}

/**
 * A netlink handle bound to one network namespace, grouped like iproute2's objects. Every call
 * is synchronous under the hood (one request, one reply, no thread hop); the methods return
 * promises so that callers are written the same way whatever the transport becomes.
 */
export class Netlink {
  /** Links: `ip link`. */
  readonly link: LinkApi;
  /** Addresses: `ip address`. */
  readonly address: AddressApi;
  /** Routes: `ip route`. */
  readonly route: RouteApi;
  /** Policy routing rules: `ip rule`. */
  readonly rule: RuleApi;
  /** Neighbours (ARP and NDP entries): `ip neigh`. */
  readonly neighbour: NeighbourApi;
  /** Queueing disciplines: `tc qdisc`. */
  readonly qdisc: QdiscApi;
  /** Traffic control filters: `tc filter`. */
  readonly filter: FilterApi;
  /** SR-IOV virtual functions of a PF: `ip link set PF vf N ...`. */
  readonly vf: VfApi;
  /** Traffic control classes (htb): `tc class`. */
  readonly tclass: ClassApi;
  readonly #conn: Connection;
  #netnsFd: number | undefined;
  readonly #ownsFd: boolean;
  #closed = false;

  /** @internal Use {@link openNetlink}. */
  constructor(conn: Connection, netnsFd: number | undefined, ownsFd: boolean) {
    this.#conn = conn;
    this.#netnsFd = netnsFd;
    this.#ownsFd = ownsFd;
    this.link = new LinkApi(conn, () => this.#netnsFd);
    this.address = new AddressApi(conn, this.link);
    this.route = new RouteApi(conn, this.link);
    this.rule = new RuleApi(conn, this.link);
    this.neighbour = new NeighbourApi(conn, this.link);
    this.qdisc = new QdiscApi(conn, this.link);
    this.filter = new FilterApi(conn, this.link);
    this.vf = new VfApi(conn, this.link);
    this.tclass = new ClassApi(conn, this.link);
  }

  /** True once {@link Netlink.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the handle at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Closes the handle at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the socket (and the namespace descriptor it opened); later calls are no-ops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
    if (this.#ownsFd && this.#netnsFd !== undefined) nodeFs().closeSync(this.#netnsFd);
    this.#netnsFd = undefined;
  }
}

/**
 * Opens a netlink handle in a namespace (the current one by default). Close it with `close()`
 * or `await using`. Several handles may be open at once, one per namespace. Equivalent to the
 * `ip -n c1` prefix (`ip -netns c1 ...`), without entering the namespace for each command.
 *
 * @example
 * ```ts
 * const nl = await openNetlink({ netns: '/var/run/netns/c1' });
 * try {
 *   await nl.link.setUp({ name: 'eth0' });
 *   await nl.address.add({ name: 'eth0' }, '10.1.2.3/24');
 * } finally {
 *   nl.close();
 * }
 * ```
 */
export async function openNetlink(options: NetlinkOptions = {}): Promise<Netlink> {
  if (process.platform === 'linux') await loadFfi().catch(() => undefined); // openNetlinkSync reports the failure
  return openNetlinkSync(options);
}

/** {@link openNetlink} without the promise, for code that runs inside a synchronous section. */
export function openNetlinkSync(options: NetlinkOptions = {}): Netlink {
  const target = typeof options.netns === 'string' ? options.netns : options.netns === undefined ? '' : `fd ${options.netns}`;
  const platform = process.platform;
  if (platform !== 'linux') {
    throw new NetlinkError({ operation: 'netlink.open', target, tag: 'NotSupported', errno: 95, detail: `netlink needs Linux, not ${platform}` });
  }
  let fd: number | undefined;
  if (typeof options.netns === 'string') {
    try {
      fd = nodeFs().openSync(options.netns, 'r');
    } catch (error) {
      const errno = -((error as { errno?: number }).errno ?? -2);
      throw new NetlinkError({ operation: 'netlink.open', target, errno, detail: `failed to open netns "${options.netns}": ${(error as Error).message}`, cause: error });
    }
  } else if (typeof options.netns === 'number') {
    fd = options.netns;
  }
  try {
    const socket = RawSocket.open(fd);
    // A descriptor the caller passed stays theirs; one opened from a path is kept (tun/tap devices
    // are created by entering the namespace) and closed with the handle.
    return new Netlink(new Connection(socket), fd, typeof options.netns === 'string');
  } catch (error) {
    if (typeof options.netns === 'string' && fd !== undefined) nodeFs().closeSync(fd);
    if (error instanceof SyscallError) {
      const detail = error.errno === 22 ? `"${target}" is not a network namespace` : undefined;
      throw new NetlinkError({ operation: 'netlink.open', target, errno: error.errno, cause: error, ...(detail ? { detail } : {}) });
    }
    throw new NetlinkError({ operation: 'netlink.open', target, tag: 'Unknown', detail: String(error), cause: error });
  }
}
