// SPDX-License-Identifier: Apache-2.0
import { scopeName, type AddressScope } from './address.ts';
import { invalidArgument } from './errors.ts';
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, type Connection } from './internal/connection.ts';
import { AF_INET, AF_INET6, formatAddress, networkOf, parseAddress, type ParsedAddress } from './internal/ip.ts';
import { attributes, u32, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import type { LinkApi } from './link.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;

const RTAX_MTU = 2;
const RTAX_ADVMSS = 8;

const RTNH_F_ONLINK = 0x4;
const RTM_F_CLONED = 0x200;

const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;

/** Route types, as `ip route` names them. */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

const routeTypes: RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw'];
const scopes: Record<AddressScope, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** A route to add, replace or delete. */
export interface RouteSpec {
  /** `default`, or a destination CIDR (`10.0.0.0/8`, `fd00::/64`); host bits are cleared. */
  readonly dst: string;
  /** Needed only for `default` without a gateway; otherwise taken from the addresses. Default 4. */
  readonly family?: 4 | 6;
  readonly gateway?: string;
  /** The output device. */
  readonly link?: LinkSelector;
  /** The preferred source address (`src` in `ip route`). */
  readonly src?: string;
  /** Default 254 (main). */
  readonly table?: number;
  /** Default: `host` for local routes, `link` for routes without a gateway, else `global`. */
  readonly scope?: AddressScope;
  /** The route's priority (`metric`). */
  readonly metric?: number;
  readonly mtu?: number;
  readonly advmss?: number;
  /** Default `unicast`. */
  readonly type?: RouteType;
  /** The protocol number; default 3 (boot), as `ip route add`. */
  readonly protocol?: number;
  /** Pretend the gateway is directly attached. */
  readonly onlink?: boolean;
  /**
   * The nexthops of a multipath route (`RTA_MULTIPATH`), instead of `gateway` and `link`.
   * Equivalent to `ip route add 10.0.0.0/8 nexthop via 10.1.0.1 dev eth0 weight 2 nexthop via 10.2.0.1 dev eth1`.
   */
  readonly nexthops?: readonly NexthopSpec[];
}

/** One nexthop of a multipath route to add. */
export interface NexthopSpec {
  readonly gateway?: string;
  readonly link?: LinkSelector;
  /** 1 to 256, default 1. */
  readonly weight?: number;
  readonly onlink?: boolean;
}

/** One nexthop of a multipath route as read from the kernel. */
export interface Nexthop {
  readonly gateway: string | undefined;
  readonly linkIndex: number | undefined;
  readonly weight: number;
  readonly onlink: boolean;
}

/** A route as read from the kernel. */
export interface Route {
  readonly family: 4 | 6;
  /** `default` or the destination CIDR. */
  readonly dst: string;
  readonly gateway: string | undefined;
  /** The output device's index. */
  readonly linkIndex: number | undefined;
  readonly src: string | undefined;
  readonly table: number;
  readonly scope: AddressScope | number;
  readonly metric: number | undefined;
  readonly mtu: number | undefined;
  readonly advmss: number | undefined;
  readonly type: RouteType;
  readonly protocol: number;
  readonly onlink: boolean;
  /** The nexthops of a multipath route; undefined for a route with one path. */
  readonly nexthops?: readonly Nexthop[];
}

/** Which routes {@link RouteApi.list} returns. */
export interface RouteFilter {
  readonly family?: 4 | 6;
  /** A table number, or `all`; default 254 (main), as `ip route show`. */
  readonly table?: number | 'all';
  readonly link?: LinkSelector;
}

function decodeRoute(message: RawMessage): Route | undefined {
  if (message.type !== RTM_NEWROUTE) return undefined;
  const payload = message.payload;
  const family = payload.readUInt8(0) === AF_INET6 ? 6 : 4;
  if (payload.readUInt32LE(8) & RTM_F_CLONED) return undefined;
  const dstLength = payload.readUInt8(1);
  const attrs = attributes(payload, 12);
  const dst = attrs.get(RTA_DST);
  const gateway = attrs.get(RTA_GATEWAY);
  const prefsrc = attrs.get(RTA_PREFSRC);
  const metrics = attrs.has(RTA_METRICS) ? attributes(attrs.get(RTA_METRICS)!) : undefined;
  return {
    family,
    dst: dst ? `${formatAddress(Buffer.from(dst))}/${dstLength}` : dstLength === 0 ? 'default' : '',
    gateway: gateway ? formatAddress(Buffer.from(gateway)) : undefined,
    linkIndex: u32(attrs.get(RTA_OIF)),
    src: prefsrc ? formatAddress(Buffer.from(prefsrc)) : undefined,
    table: u32(attrs.get(RTA_TABLE)) ?? payload.readUInt8(4),
    scope: scopeName(payload.readUInt8(6)),
    metric: u32(attrs.get(RTA_PRIORITY)),
    mtu: u32(metrics?.get(RTAX_MTU)),
    advmss: u32(metrics?.get(RTAX_ADVMSS)),
    type: routeTypes[payload.readUInt8(7) - 1] ?? 'unicast',
    protocol: payload.readUInt8(5),
    onlink: (payload.readUInt32LE(8) & RTNH_F_ONLINK) !== 0,
    ...(attrs.has(RTA_MULTIPATH) ? { nexthops: decodeMultipath(attrs.get(RTA_MULTIPATH)!) } : {}),
  };
}

/** Decodes an `RTA_MULTIPATH` payload: `struct rtnexthop` (len, flags, hops, ifindex) then its attributes. */
export function decodeMultipath(payload: Buffer): Nexthop[] {
  const nexthops: Nexthop[] = [];
  let offset = 0;
  while (offset + 8 <= payload.length) {
    const length = payload.readUInt16LE(offset);
    if (length < 8 || offset + length > payload.length) break;
    const attrs = attributes(payload.subarray(offset + 8, offset + length));
    const gateway = attrs.get(RTA_GATEWAY);
    const ifindex = payload.readInt32LE(offset + 4);
    nexthops.push({
      gateway: gateway ? formatAddress(Buffer.from(gateway)) : undefined,
      linkIndex: ifindex > 0 ? ifindex : undefined,
      weight: payload.readUInt8(offset + 3) + 1,
      onlink: (payload.readUInt8(offset + 2) & RTNH_F_ONLINK) !== 0,
    });
    offset += (length + 3) & ~3;
  }
  return nexthops;
}

/** Writes an `RTA_MULTIPATH` attribute; `hops` is the weight less one, as the kernel stores it. */
export function encodeMultipath(writer: MessageWriter, nexthops: readonly { gateway?: Buffer; linkIndex?: number; weight: number; onlink: boolean }[]): void {
  writer.nest(
    RTA_MULTIPATH,
    () => {
      for (const hop of nexthops) {
        const at = writer.zeros(8);
        writer.buffer.writeUInt8(hop.onlink ? RTNH_F_ONLINK : 0, at + 2);
        writer.buffer.writeUInt8(hop.weight - 1, at + 3);
        writer.buffer.writeInt32LE(hop.linkIndex ?? 0, at + 4);
        if (hop.gateway) writer.attr(RTA_GATEWAY, hop.gateway);
        writer.buffer.writeUInt16LE(writer.zeros(0) - at, at);
      }
    },
    false,
  );
}

function rtmsg(writer: MessageWriter, fields: { family: number; dstLength: number; table: number; protocol: number; scope: number; type: number; flags: number }): void {
  const at = writer.zeros(12);
  const buffer = writer.buffer;
  buffer.writeUInt8(fields.family, at);
  buffer.writeUInt8(fields.dstLength, at + 1);
  buffer.writeUInt8(fields.table < 256 ? fields.table : 0, at + 4);
  buffer.writeUInt8(fields.protocol, at + 5);
  buffer.writeUInt8(fields.scope, at + 6);
  buffer.writeUInt8(fields.type, at + 7);
  buffer.writeUInt32LE(fields.flags, at + 8);
}

/** Routes: list, add, replace and delete IPv4 and IPv6 routes. Reached as `nl.route`. */
export class RouteApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The routes of a table (main by default). Equivalent to `ip route show [table N] [dev eth0]`. */
  async list(filter: RouteFilter = {}): Promise<Route[]> {
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : 0;
    const index = filter.link ? this.#links.indexOf(filter.link) : undefined;
    const table = filter.table ?? RT_TABLE_MAIN;
    const found = this.#conn.query(
      { operation: 'route.list', target: '' },
      RTM_GETROUTE,
      NLM_F_DUMP,
      (writer) => rtmsg(writer, { family, dstLength: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0 }),
      decodeRoute,
    );
    return found.filter((route) => (table === 'all' || route.table === table) && (index === undefined || route.linkIndex === index));
  }

  /** Adds a route; an existing one is `AlreadyExists`. Equivalent to `ip route add 10.0.0.0/8 via 10.1.2.1 dev eth0`. */
  async add(route: RouteSpec): Promise<void> {
    this.#change('route.add', RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
  }

  /**
   * Adds a route beside those to the same destination (another nexthop of equal cost), where
   * {@link add} would fail with `AlreadyExists`. Equivalent to `ip route append ...`; upstream's
   * `RouteAddEcmp`, which its IPAM uses so that a second network's default route does not fail.
   */
  async append(route: RouteSpec): Promise<void> {
    this.#change('route.append', RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, route);
  }

  /** Adds or replaces a route. Equivalent to `ip route replace 10.0.0.0/8 via 10.1.2.1`. */
  async replace(route: RouteSpec): Promise<void> {
    this.#change('route.replace', RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
  }

  /**
   * Deletes a route; the fields given must match it. Equivalent to `ip route del 10.0.0.0/8 [via ...] [dev eth0]`.
   */
  async del(route: RouteSpec): Promise<void> {
    this.#change('route.del', RTM_DELROUTE, 0, route);
  }

  #change(operation: string, type: number, flags: number, route: RouteSpec): void {
    const target = route.dst;
    const parse = (text: string, what: string): ParsedAddress => {
      const parsed = parseAddress(text);
      if (!parsed) throw invalidArgument(operation, target, `invalid ${what} "${text}"`);
      return parsed;
    };
    const gateway = route.gateway === undefined ? undefined : parse(route.gateway, 'gateway address');
    const src = route.src === undefined ? undefined : parse(route.src, 'source address');
    let dst: ParsedAddress | undefined;
    let family: number;
    if (route.dst === 'default') {
      family = gateway?.family ?? src?.family ?? (route.family === 6 ? AF_INET6 : AF_INET);
    } else {
      if (!route.dst.includes('/') && parseAddress(route.dst) === undefined) {
        throw invalidArgument(operation, target, `invalid CIDR address "${route.dst}"`);
      }
      dst = parse(route.dst, 'CIDR address');
      family = dst.family;
    }
    if ((gateway && gateway.family !== family) || (src && src.family !== family)) {
      throw invalidArgument(operation, target, 'the addresses of a route must be of one family');
    }
    const routeType = route.type ?? 'unicast';
    const typeNumber = routeTypes.indexOf(routeType) + 1;
    if (typeNumber === 0) throw invalidArgument(operation, target, `invalid route type "${route.type}"`);
    let scope: number;
    if (route.scope !== undefined) {
      const given = scopes[route.scope];
      if (given === undefined) throw invalidArgument(operation, target, `invalid scope "${route.scope}"`);
      scope = given;
    } else if (type === RTM_DELROUTE) {
      scope = 255; // RT_SCOPE_NOWHERE matches any scope, as `ip route del` sends.
    } else if (routeType === 'local') {
      scope = scopes.host;
    } else if (routeType === 'unicast' && !gateway && route.link) {
      scope = scopes.link;
    } else {
      scope = scopes.global;
    }
    const table = route.table ?? RT_TABLE_MAIN;
    const linkIndex = route.link ? this.#links.indexOf(route.link) : undefined;
    if (route.nexthops !== undefined && (route.nexthops.length === 0 || gateway || route.link)) {
      throw invalidArgument(operation, target, 'a multipath route has one or more nexthops and no gateway or link of its own');
    }
    const nexthops = route.nexthops?.map((hop) => {
      const hopGateway = hop.gateway === undefined ? undefined : parse(hop.gateway, 'nexthop gateway');
      if (hopGateway && hopGateway.family !== family) throw invalidArgument(operation, target, 'the addresses of a route must be of one family');
      const weight = hop.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 256) throw invalidArgument(operation, target, `invalid nexthop weight ${weight}, must be [1, 256]`);
      return {
        ...(hopGateway ? { gateway: hopGateway.bytes } : {}),
        ...(hop.link ? { linkIndex: this.#links.indexOf(hop.link) } : {}),
        weight,
        onlink: hop.onlink ?? false,
      };
    });
    const metrics = route.mtu !== undefined || route.advmss !== undefined;
    this.#conn.request({ operation, target }, type, flags, (writer) => {
      rtmsg(writer, {
        family,
        dstLength: dst?.prefix ?? 0,
        table,
        protocol: route.protocol ?? (type === RTM_DELROUTE ? 0 : RTPROT_BOOT),
        scope,
        type: typeNumber,
        flags: route.onlink ? RTNH_F_ONLINK : 0,
      });
      if (dst) writer.attr(RTA_DST, networkOf(dst.bytes, dst.prefix));
      if (gateway) writer.attr(RTA_GATEWAY, gateway.bytes);
      if (linkIndex !== undefined) writer.u32(RTA_OIF, linkIndex);
      if (src) writer.attr(RTA_PREFSRC, src.bytes);
      if (route.metric !== undefined) writer.u32(RTA_PRIORITY, route.metric);
      writer.u32(RTA_TABLE, table);
      if (nexthops) encodeMultipath(writer, nexthops);
      if (metrics) {
        writer.nest(RTA_METRICS, () => {
          if (route.mtu !== undefined) writer.u32(RTAX_MTU, route.mtu);
          if (route.advmss !== undefined) writer.u32(RTAX_ADVMSS, route.advmss);
        }, false);
      }
    });
  }
}
