// SPDX-License-Identifier: Apache-2.0
import { invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, type Connection } from './internal/connection.ts';
import { attributeList, attributes, str, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { describeSelector, type LinkApi } from './link.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWQDISC = 36;
const RTM_DELQDISC = 37;
const RTM_GETQDISC = 38;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const RTM_GETTFILTER = 46;

const TCA_KIND = 1;
const TCA_OPTIONS = 2;

const TC_H_ROOT = 0xffffffff;
const TC_H_INGRESS = 0xfffffff1;
const TC_H_CLSACT = TC_H_INGRESS;
const INGRESS_HANDLE = 0xffff0000;

const TCA_TBF_PARMS = 1;
const TCA_TBF_RATE64 = 4;
const TCA_TBF_BURST = 6;
const TC_LINKLAYER_ETHERNET = 1;

const TCA_HTB_INIT = 2;

const TCA_U32_SEL = 5;
const TCA_U32_ACT = 7;
const TC_U32_TERMINAL = 1;
const TCA_ACT_KIND = 1;
const TCA_ACT_OPTIONS = 2;
const TCA_MIRRED_PARMS = 2;
const TC_ACT_PIPE = 3;
const TC_ACT_STOLEN = 4;

// A psched tick is 64 ns on every kernel since 2.6.31 (PSCHED_SHIFT 6).
const NS_PER_TICK = 64;

/** A token bucket filter (what the CNI bandwidth plugin installs). */
export interface TbfQdisc {
  readonly kind: 'tbf';
  /** Default `root`. */
  readonly parent?: string;
  readonly handle?: string;
  /** The rate in bytes per second. */
  readonly rate: number;
  /** The bucket size in bytes. */
  readonly burst: number;
  /** How long a packet may wait, in microseconds; sets `limit` as `tc ... latency` does. */
  readonly latency?: number;
  /** The queue size in bytes; wins over `latency`. */
  readonly limit?: number;
}

/** A hierarchy token bucket root. */
export interface HtbQdisc {
  readonly kind: 'htb';
  /** Default `root`. */
  readonly parent?: string;
  /** Default `1:`. */
  readonly handle?: string;
  /** The minor number of the class unclassified traffic goes to; default 0 (direct). */
  readonly defaultClass?: number;
}

/** The ingress or clsact qdisc, both at `ffff:`. */
export interface IngressQdisc {
  readonly kind: 'ingress' | 'clsact';
}

/** A qdisc to add, replace or delete. */
export type QdiscSpec = TbfQdisc | HtbQdisc | IngressQdisc;

/** A qdisc as read from the kernel. */
export interface Qdisc {
  readonly index: number;
  readonly kind: string;
  /** `1:`, `ffff:` */
  readonly handle: string;
  /** `root`, `ingress`, or a class like `1:2`. */
  readonly parent: string;
  /** For tbf: rate (bytes/s), burst (bytes), limit (bytes). */
  readonly tbf: { rate: number; burst: number; limit: number } | undefined;
}

/** A u32 filter that matches every packet and redirects or mirrors it with mirred (`tc filter ... u32 match u32 0 0 action mirred`). */
export interface U32MirredFilter {
  readonly kind: 'u32';
  /** The qdisc or class to attach to: `ffff:` (ingress), `1:`... */
  readonly parent: string;
  /** Default 0 (the kernel picks one). */
  readonly priority?: number;
  /** Default `all`. */
  readonly protocol?: 'all' | 'ip' | 'ipv6';
  readonly action: {
    readonly kind: 'mirred';
    /** Default `redirect`. */
    readonly mode?: 'redirect' | 'mirror';
    /** Default `egress`. */
    readonly direction?: 'egress' | 'ingress';
    /** The link the packets go to (an ifb, usually). */
    readonly link: LinkSelector;
  };
}

/** A filter as read from the kernel. */
export interface Filter {
  readonly kind: string;
  readonly parent: string;
  readonly priority: number;
  readonly protocol: number;
  readonly handle: number;
  /** The target of a mirred action, when the filter has one. */
  readonly mirredIndex: number | undefined;
}

/** Parses a tc handle: `root`, `ingress`, `clsact`, `ffff:`, `1:2`. */
export function parseHandle(text: string): number | undefined {
  if (text === 'root') return TC_H_ROOT;
  if (text === 'ingress' || text === 'clsact') return TC_H_INGRESS;
  const match = /^([0-9a-fA-F]{0,4}):([0-9a-fA-F]{0,4})$/.exec(text);
  if (!match) return undefined;
  return ((parseInt(match[1] || '0', 16) << 16) | parseInt(match[2] || '0', 16)) >>> 0;
}

/** Formats a handle as tc prints it. */
export function formatHandle(value: number): string {
  if (value === TC_H_ROOT) return 'root';
  if (value === TC_H_INGRESS) return 'ingress';
  const major = (value >>> 16).toString(16);
  const minor = value & 0xffff;
  return minor === 0 ? `${major}:` : `${major}:${minor.toString(16)}`;
}

function tcmsg(writer: MessageWriter, index: number, handle: number, parent: number, info: number): void {
  const at = writer.zeros(20);
  writer.buffer.writeUInt8(0, at);
  writer.buffer.writeInt32LE(index, at + 4);
  writer.buffer.writeUInt32LE(handle >>> 0, at + 8);
  writer.buffer.writeUInt32LE(parent >>> 0, at + 12);
  writer.buffer.writeUInt32LE(info >>> 0, at + 16);
}

function decodeQdisc(message: RawMessage): Qdisc | undefined {
  if (message.type !== RTM_NEWQDISC) return undefined;
  const payload = message.payload;
  const attrs = attributes(payload, 20);
  const kind = str(attrs.get(TCA_KIND)) ?? '';
  let tbf: Qdisc['tbf'];
  if (kind === 'tbf' && attrs.has(TCA_OPTIONS)) {
    const options = attributes(attrs.get(TCA_OPTIONS)!);
    const parms = options.get(TCA_TBF_PARMS);
    if (parms && parms.length >= 36) {
      const rate64 = options.get(TCA_TBF_RATE64);
      const rate = rate64 ? Number(rate64.readBigUInt64LE(0)) : parms.readUInt32LE(8);
      const buffer = parms.readUInt32LE(28);
      tbf = { rate, limit: parms.readUInt32LE(24), burst: Math.round((buffer * NS_PER_TICK * rate) / 1e9) };
    }
  }
  return {
    index: payload.readInt32LE(4),
    kind,
    handle: formatHandle(payload.readUInt32LE(8)),
    parent: formatHandle(payload.readUInt32LE(12)),
    tbf,
  };
}

/** Queueing disciplines: list, add, replace and delete. Reached as `nl.qdisc`. */
export class QdiscApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The qdiscs of every link or one. Equivalent to `tc qdisc show [dev eth0]`. */
  async list(link?: LinkSelector): Promise<Qdisc[]> {
    const index = link ? this.#links.indexOf(link) : undefined;
    const found = this.#conn.query(
      { operation: 'qdisc.list', target: link ? describeSelector(link) : '' },
      RTM_GETQDISC,
      NLM_F_DUMP,
      (writer) => tcmsg(writer, 0, 0, 0, 0),
      decodeQdisc,
    );
    return index === undefined ? found : found.filter((qdisc) => qdisc.index === index);
  }

  /** Adds a qdisc. Equivalent to `tc qdisc add dev eth0 root tbf rate 1mbit burst 32kb latency 25ms`. */
  async add(link: LinkSelector, spec: QdiscSpec): Promise<void> {
    this.#change('qdisc.add', RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, link, spec);
  }

  /** Adds or replaces a qdisc. Equivalent to `tc qdisc replace dev eth0 root tbf ...`. */
  async replace(link: LinkSelector, spec: QdiscSpec): Promise<void> {
    this.#change('qdisc.replace', RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, link, spec);
  }

  /** Deletes a qdisc (its filters and classes go with it). Equivalent to `tc qdisc del dev eth0 root` or `... ingress`. */
  async del(link: LinkSelector, spec: QdiscSpec | { kind?: undefined; parent: string; handle?: string }): Promise<void> {
    this.#change('qdisc.del', RTM_DELQDISC, 0, link, spec);
  }

  #change(operation: string, type: number, flags: number, link: LinkSelector, spec: QdiscSpec | { kind?: undefined; parent: string; handle?: string }): void {
    const target = describeSelector(link);
    const handleOf = (text: string | undefined, fallback: number): number => {
      if (text === undefined) return fallback;
      const value = parseHandle(text);
      if (value === undefined) throw invalidArgument(operation, target, `invalid tc handle "${text}"`);
      return value;
    };
    let parent: number;
    let handle: number;
    if (spec.kind === 'ingress' || spec.kind === 'clsact') {
      parent = spec.kind === 'ingress' ? TC_H_INGRESS : TC_H_CLSACT;
      handle = INGRESS_HANDLE;
    } else {
      const placed = spec as Exclude<typeof spec, IngressQdisc>;
      parent = handleOf(placed.parent, TC_H_ROOT);
      handle = handleOf(placed.handle, placed.kind === 'htb' ? 0x10000 : 0);
    }
    if (spec.kind === 'tbf') {
      if (!(spec.rate > 0) || !(spec.burst > 0)) throw invalidArgument(operation, target, `invalid tbf rate ${spec.rate} or burst ${spec.burst}, must be positive`);
      if (spec.limit === undefined && spec.latency === undefined) throw invalidArgument(operation, target, 'tbf needs a limit or a latency');
    }
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation, target, link: true }, type, flags, (writer) => {
      tcmsg(writer, index, handle, parent, 0);
      if (spec.kind === undefined) return;
      writer.string(TCA_KIND, spec.kind);
      if (type === RTM_DELQDISC) return;
      if (spec.kind === 'tbf') writeTbf(writer, spec);
      else if (spec.kind === 'htb') {
        writer.nest(TCA_OPTIONS, () => {
          const glob = Buffer.alloc(20);
          glob.writeUInt32LE(3, 0); // TC_HTB_PROTOVER
          glob.writeUInt32LE(10, 4); // rate2quantum, tc's default
          glob.writeUInt32LE(spec.defaultClass ?? 0, 8);
          writer.attr(TCA_HTB_INIT, glob);
        });
      }
    });
  }
}

function writeTbf(writer: MessageWriter, spec: TbfQdisc): void {
  const rate = Math.round(spec.rate);
  const burst = Math.round(spec.burst);
  const limit = spec.limit ?? Math.round((rate * spec.latency!) / 1e6 + burst);
  const bufferTicks = Math.min(0xffffffff, Math.round((burst * 1e9) / rate / NS_PER_TICK));
  const qopt = Buffer.alloc(36);
  qopt.writeUInt8(TC_LINKLAYER_ETHERNET, 1);
  qopt.writeUInt32LE(Math.min(rate, 0xffffffff), 8);
  qopt.writeUInt32LE(Math.min(limit, 0xffffffff), 24);
  qopt.writeUInt32LE(bufferTicks, 28);
  writer.nest(TCA_OPTIONS, () => {
    writer.attr(TCA_TBF_PARMS, qopt);
    if (rate > 0xffffffff) writer.u64(TCA_TBF_RATE64, rate);
    writer.u32(TCA_TBF_BURST, burst);
  });
}

const protocols = { all: 0x0003, ip: 0x0800, ipv6: 0x86dd } as const;

function decodeFilter(message: RawMessage): Filter | undefined {
  if (message.type !== RTM_NEWTFILTER) return undefined;
  const payload = message.payload;
  const attrs = attributes(payload, 20);
  const info = payload.readUInt32LE(16);
  let mirredIndex: number | undefined;
  const options = attrs.get(TCA_OPTIONS);
  if (options) {
    const actions = attributes(options).get(TCA_U32_ACT);
    for (const [, action] of actions ? attributeList(actions) : []) {
      const parts = attributes(action);
      if (str(parts.get(TCA_ACT_KIND)) !== 'mirred') continue;
      const parms = attributes(parts.get(TCA_ACT_OPTIONS) ?? Buffer.alloc(0)).get(TCA_MIRRED_PARMS);
      if (parms && parms.length >= 28) mirredIndex = parms.readUInt32LE(24);
    }
  }
  return {
    kind: str(attrs.get(TCA_KIND)) ?? '',
    parent: formatHandle(payload.readUInt32LE(12)),
    priority: info >>> 16,
    protocol: ((info & 0xff) << 8) | ((info >>> 8) & 0xff),
    handle: payload.readUInt32LE(8),
    mirredIndex,
  };
}

/** Traffic control filters: list, add and delete. Reached as `nl.filter`. */
export class FilterApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The filters attached to a qdisc of a link. Equivalent to `tc filter show dev eth0 parent ffff:`. */
  async list(link: LinkSelector, parent: string): Promise<Filter[]> {
    const target = describeSelector(link);
    const parentHandle = parseHandle(parent);
    if (parentHandle === undefined) throw invalidArgument('filter.list', target, `invalid tc handle "${parent}"`);
    const index = this.#links.indexOf(link);
    return this.#conn.query(
      { operation: 'filter.list', target, link: true },
      RTM_GETTFILTER,
      NLM_F_DUMP,
      (writer) => tcmsg(writer, index, 0, parentHandle, 0),
      decodeFilter,
    );
  }

  /**
   * Adds a u32 match-all filter with a mirred action, as the CNI bandwidth plugin does for ingress
   * shaping. Equivalent to
   * `tc filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ifb0`.
   */
  async add(link: LinkSelector, filter: U32MirredFilter): Promise<void> {
    const operation = 'filter.add';
    const target = describeSelector(link);
    const parent = parseHandle(filter.parent);
    if (parent === undefined) throw invalidArgument(operation, target, `invalid tc handle "${filter.parent}"`);
    const protocol = protocols[filter.protocol ?? 'all'];
    if (protocol === undefined) throw invalidArgument(operation, target, `invalid protocol "${filter.protocol}"`);
    const index = this.#links.indexOf(link);
    const targetIndex = this.#links.indexOf(filter.action.link);
    const mode = filter.action.mode ?? 'redirect';
    const direction = filter.action.direction ?? 'egress';
    // TCA_EGRESS_REDIR 1, TCA_EGRESS_MIRROR 2, TCA_INGRESS_REDIR 3, TCA_INGRESS_MIRROR 4.
    const eaction = (direction === 'egress' ? 1 : 3) + (mode === 'mirror' ? 1 : 0);
    const mirred = Buffer.alloc(28);
    mirred.writeInt32LE(mode === 'redirect' ? TC_ACT_STOLEN : TC_ACT_PIPE, 8);
    mirred.writeInt32LE(eaction, 20);
    mirred.writeUInt32LE(targetIndex, 24);
    const selector = Buffer.alloc(32);
    selector.writeUInt8(TC_U32_TERMINAL, 0);
    selector.writeUInt8(1, 2); // one key: mask 0, value 0 at offset 0 matches everything
    const info = (((filter.priority ?? 0) << 16) | (((protocol & 0xff) << 8) | (protocol >>> 8))) >>> 0;
    this.#conn.request({ operation, target, link: true }, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, (writer) => {
      tcmsg(writer, index, 0, parent, info);
      writer.string(TCA_KIND, 'u32');
      writer.nest(TCA_OPTIONS, () => {
        writer.attr(TCA_U32_SEL, selector);
        writer.nest(TCA_U32_ACT, () => {
          writer.nest(1, () => {
            writer.string(TCA_ACT_KIND, 'mirred');
            writer.nest(TCA_ACT_OPTIONS, () => writer.attr(TCA_MIRRED_PARMS, mirred));
          });
        });
      });
    });
  }

  /**
   * Deletes the filters of a parent (all priorities, or one).
   * Equivalent to `tc filter del dev eth0 parent ffff: [prio N]`.
   */
  async del(link: LinkSelector, options: { parent: string; priority?: number }): Promise<void> {
    const operation = 'filter.del';
    const target = describeSelector(link);
    const parent = parseHandle(options.parent);
    if (parent === undefined) throw invalidArgument(operation, target, `invalid tc handle "${options.parent}"`);
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation, target, link: true }, RTM_DELTFILTER, 0, (writer) => {
      tcmsg(writer, index, 0, parent, ((options.priority ?? 0) << 16) >>> 0);
    });
  }
}


