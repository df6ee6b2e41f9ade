// SPDX-License-Identifier: Apache-2.0
import { invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, type Connection } from './internal/connection.ts';
import { AF_INET, AF_INET6, formatAddress, parseAddress, type ParsedAddress } from './internal/ip.ts';
import { attributes, str, u32, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { describeSelector, type LinkApi } from './link.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8;

const IFA_F_NODAD = 0x02;
const IFA_F_NOPREFIXROUTE = 0x200;

/** An address scope, as `ip address` names them. */
export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

const scopes: Record<AddressScope, number> = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 };

/** Names a scope number; numbers without a name are kept as numbers. */
export function scopeName(value: number): AddressScope | number {
  return (Object.keys(scopes) as AddressScope[]).find((key) => scopes[key] === value) ?? value;
}

/** An address of a link, as read from the kernel. */
export interface Address {
  /** The link's index. */
  readonly index: number;
  readonly family: 4 | 6;
  /** The address with its prefix length: `10.1.2.3/24`. */
  readonly cidr: string;
  /** The address alone: `10.1.2.3`. */
  readonly address: string;
  readonly prefixLength: number;
  /** The peer of a point-to-point address, when it differs from the local one. */
  readonly peer: string | undefined;
  readonly broadcast: string | undefined;
  readonly label: string | undefined;
  readonly scope: AddressScope | number;
  /** IFA_F_* flags. */
  readonly flags: number;
}

/** Options of {@link AddressApi.add}. */
export interface AddressOptions {
  /** Skip duplicate address detection (IPv6). */
  readonly nodad?: boolean;
  /** Do not add the prefix route. */
  readonly noPrefixRoute?: boolean;
  /** Default `global`. */
  readonly scope?: AddressScope;
  /**
   * The IPv4 broadcast address; `true` (the default for prefixes shorter than /31, as the Go
   * netlink library does) computes it from the prefix, `false` sets none.
   */
  readonly broadcast?: string | boolean;
  /** The label (`eth0:1`); IPv4 only. */
  readonly label?: string;
}

/** Which addresses {@link AddressApi.list} returns. */
export interface AddressFilter {
  readonly link?: LinkSelector;
  readonly family?: 4 | 6;
}

function decodeAddress(message: RawMessage): Address | undefined {
  if (message.type !== RTM_NEWADDR) return undefined;
  const payload = message.payload;
  const family = payload.readUInt8(0) === AF_INET6 ? 6 : 4;
  const prefixLength = payload.readUInt8(1);
  const attrs = attributes(payload, 8);
  const addressBytes = attrs.get(IFA_ADDRESS);
  const localBytes = attrs.get(IFA_LOCAL) ?? addressBytes;
  if (!localBytes) return undefined;
  const address = formatAddress(Buffer.from(localBytes));
  const peerText = addressBytes ? formatAddress(Buffer.from(addressBytes)) : undefined;
  const broadcast = attrs.get(IFA_BROADCAST);
  return {
    index: payload.readUInt32LE(4),
    family,
    cidr: `${address}/${prefixLength}`,
    address,
    prefixLength,
    peer: peerText !== address ? peerText : undefined,
    broadcast: broadcast ? formatAddress(Buffer.from(broadcast)) : undefined,
    label: str(attrs.get(IFA_LABEL)),
    scope: scopeName(payload.readUInt8(3)),
    flags: u32(attrs.get(IFA_FLAGS)) ?? payload.readUInt8(2),
  };
}

function ifaddr(writer: MessageWriter, family: number, prefix: number, flags: number, scope: number, index: number): void {
  const at = writer.zeros(8);
  writer.buffer.writeUInt8(family, at);
  writer.buffer.writeUInt8(prefix, at + 1);
  writer.buffer.writeUInt8(flags & 0xff, at + 2);
  writer.buffer.writeUInt8(scope, at + 3);
  writer.buffer.writeUInt32LE(index, at + 4);
}

function broadcastOf(parsed: ParsedAddress): Buffer {
  const bytes = Buffer.from(parsed.bytes);
  for (let bit = parsed.prefix; bit < 32; bit++) bytes[bit >> 3] = bytes[bit >> 3]! | (0x80 >> (bit & 7));
  return bytes;
}

/** Addresses: list, add, replace and delete IPv4 and IPv6 addresses. Reached as `nl.address`. */
export class AddressApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The addresses of every link, or of one. Equivalent to `ip address show [dev eth0]`. */
  async list(filter: AddressFilter = {}): Promise<Address[]> {
    const index = filter.link ? this.#links.indexOf(filter.link) : undefined;
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : 0;
    const found = this.#conn.query(
      { operation: 'address.list', target: filter.link ? describeSelector(filter.link) : '' },
      RTM_GETADDR,
      NLM_F_DUMP,
      (writer) => ifaddr(writer, family, 0, 0, 0, 0),
      decodeAddress,
    );
    return index === undefined ? found : found.filter((address) => address.index === index);
  }

  /** Adds an address; an existing one is `AlreadyExists`. Equivalent to `ip address add 10.1.2.3/24 dev eth0`. */
  async add(link: LinkSelector, cidr: string, options: AddressOptions = {}): Promise<void> {
    this.#change('address.add', NLM_F_CREATE | NLM_F_EXCL, link, cidr, options);
  }

  /** Adds or updates an address. Equivalent to `ip address replace 10.1.2.3/24 dev eth0`. */
  async replace(link: LinkSelector, cidr: string, options: AddressOptions = {}): Promise<void> {
    this.#change('address.replace', NLM_F_CREATE | NLM_F_REPLACE, link, cidr, options);
  }

  /** Deletes an address. Equivalent to `ip address del 10.1.2.3/24 dev eth0`. */
  async del(link: LinkSelector, cidr: string): Promise<void> {
    const parsed = this.#parse('address.del', cidr);
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation: 'address.del', target: `${cidr} dev ${describeSelector(link)}` }, RTM_DELADDR, 0, (writer) => {
      ifaddr(writer, parsed.family, parsed.prefix, 0, 0, index);
      writer.attr(IFA_LOCAL, parsed.bytes);
      writer.attr(IFA_ADDRESS, parsed.bytes);
    });
  }

  #parse(operation: string, cidr: string): ParsedAddress {
    const parsed = parseAddress(cidr);
    if (!parsed) throw invalidArgument(operation, cidr, `invalid CIDR address "${cidr}"`);
    return parsed;
  }

  #change(operation: string, flags: number, link: LinkSelector, cidr: string, options: AddressOptions): void {
    const parsed = this.#parse(operation, cidr);
    const scope = scopes[options.scope ?? 'global'];
    if (scope === undefined) throw invalidArgument(operation, cidr, `invalid scope "${options.scope}"`);
    let broadcast: Buffer | undefined;
    if (parsed.family === AF_INET) {
      if (typeof options.broadcast === 'string') {
        const given = parseAddress(options.broadcast);
        if (!given || given.family !== AF_INET) {
          throw invalidArgument(operation, cidr, `invalid broadcast address "${options.broadcast}"`);
        }
        broadcast = given.bytes;
      } else if (options.broadcast !== false && parsed.prefix < 31) {
        broadcast = broadcastOf(parsed);
      }
    }
    const ifaFlags = (options.nodad ? IFA_F_NODAD : 0) | (options.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation, target: `${cidr} dev ${describeSelector(link)}` }, RTM_NEWADDR, flags, (writer) => {
      ifaddr(writer, parsed.family, parsed.prefix, ifaFlags, scope, index);
      writer.attr(IFA_LOCAL, parsed.bytes);
      writer.attr(IFA_ADDRESS, parsed.bytes);
      if (broadcast) writer.attr(IFA_BROADCAST, broadcast);
      if (options.label !== undefined) writer.string(IFA_LABEL, options.label);
      if (ifaFlags > 0xff) writer.u32(IFA_FLAGS, ifaFlags);
    });
  }
}
