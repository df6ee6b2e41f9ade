// SPDX-License-Identifier: Apache-2.0
import { invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, type Connection } from './internal/connection.ts';
import { AF_INET, AF_INET6, formatAddress, parseAddress } from './internal/ip.ts';
import { attributes, mac, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { describeSelector, type LinkApi } from './link.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const RTM_GETNEIGH = 30;

const NDA_DST = 1;
const NDA_LLADDR = 2;

/** Neighbour states, as `ip neigh` names them. */
export type NeighbourState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'noarp' | 'permanent';

const states: Record<NeighbourState, number> = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
};

/** A neighbour entry to add or replace. */
export interface NeighbourSpec {
  readonly link: LinkSelector;
  /** The IP address. */
  readonly address: string;
  /** The link-layer address. */
  readonly mac: string;
  /** Default `permanent`. */
  readonly state?: NeighbourState;
}

/** A neighbour entry as read from the kernel. */
export interface Neighbour {
  readonly index: number;
  readonly family: 4 | 6;
  readonly address: string;
  readonly mac: string | undefined;
  readonly state: NeighbourState | number;
}

function decodeNeighbour(message: RawMessage): Neighbour | undefined {
  if (message.type !== RTM_NEWNEIGH) return undefined;
  const payload = message.payload;
  const familyNumber = payload.readUInt8(0);
  if (familyNumber !== AF_INET && familyNumber !== AF_INET6) return undefined;
  const attrs = attributes(payload, 12);
  const dst = attrs.get(NDA_DST);
  if (!dst) return undefined;
  const state = payload.readUInt16LE(8);
  return {
    index: payload.readInt32LE(4),
    family: familyNumber === AF_INET6 ? 6 : 4,
    address: formatAddress(Buffer.from(dst)),
    mac: mac(attrs.get(NDA_LLADDR)),
    state: (Object.keys(states) as NeighbourState[]).find((key) => states[key] === state) ?? state,
  };
}

function ndmsg(writer: MessageWriter, family: number, index: number, state: number): void {
  const at = writer.zeros(12);
  writer.buffer.writeUInt8(family, at);
  writer.buffer.writeInt32LE(index, at + 4);
  writer.buffer.writeUInt16LE(state, at + 8);
}

/** Neighbours (ARP and NDP entries): list, add, replace and delete. Reached as `nl.neighbour`. */
export class NeighbourApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The neighbour entries, of every link or one. Equivalent to `ip neigh show [dev eth0]`. */
  async list(filter: { link?: LinkSelector; family?: 4 | 6 } = {}): Promise<Neighbour[]> {
    const index = filter.link ? this.#links.indexOf(filter.link) : undefined;
    const family = filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : 0;
    const found = this.#conn.query(
      { operation: 'neighbour.list', target: '' },
      RTM_GETNEIGH,
      NLM_F_DUMP,
      (writer) => ndmsg(writer, family, 0, 0),
      decodeNeighbour,
    );
    return index === undefined ? found : found.filter((entry) => entry.index === index);
  }

  /** Adds an entry. Equivalent to `ip neigh add 10.1.2.1 lladdr aa:bb:cc:dd:ee:ff dev eth0 nud permanent`. */
  async add(entry: NeighbourSpec): Promise<void> {
    this.#change('neighbour.add', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, entry);
  }

  /** Adds or updates an entry. Equivalent to `ip neigh replace 10.1.2.1 lladdr ... dev eth0`. */
  async replace(entry: NeighbourSpec): Promise<void> {
    this.#change('neighbour.replace', RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, entry);
  }

  /** Deletes an entry. Equivalent to `ip neigh del 10.1.2.1 dev eth0`. */
  async del(entry: { link: LinkSelector; address: string }): Promise<void> {
    this.#change('neighbour.del', RTM_DELNEIGH, 0, entry);
  }

  #change(operation: string, type: number, flags: number, entry: { link: LinkSelector; address: string; mac?: string; state?: NeighbourState }): void {
    const target = `${entry.address} dev ${describeSelector(entry.link)}`;
    const parsed = parseAddress(entry.address);
    if (!parsed || parsed.prefix !== parsed.bytes.length * 8 || entry.address.includes('/')) {
      throw invalidArgument(operation, target, `invalid IP address "${entry.address}"`);
    }
    let lladdr: Buffer | undefined;
    if (entry.mac !== undefined) {
      if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(entry.mac)) throw invalidArgument(operation, target, `invalid MAC address "${entry.mac}"`);
      lladdr = Buffer.from(entry.mac.split(':').map((part) => parseInt(part, 16)));
    }
    const state = states[entry.state ?? 'permanent'];
    if (state === undefined) throw invalidArgument(operation, target, `invalid neighbour state "${entry.state}"`);
    const index = this.#links.indexOf(entry.link);
    this.#conn.request({ operation, target }, type, flags, (writer) => {
      ndmsg(writer, parsed.family, index, type === RTM_DELNEIGH ? 0 : state);
      writer.attr(NDA_DST, parsed.bytes);
      if (lladdr) writer.attr(NDA_LLADDR, lladdr);
    });
  }
}
