// SPDX-License-Identifier: Apache-2.0
import { invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, type Connection } from './internal/connection.ts';
import { attributes, str, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { describeSelector, type LinkApi } from './link.ts';
import { formatHandle, parseHandle } from './tc.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWTCLASS = 40;
const RTM_DELTCLASS = 41;
const RTM_GETTCLASS = 42;

const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_HTB_PARMS = 1;
const TCA_HTB_RATE64 = 6;
const TCA_HTB_CEIL64 = 7;
const TC_LINKLAYER_ETHERNET = 1;
// A psched tick is 64 ns (PSCHED_SHIFT 6).
const NS_PER_TICK = 64;
const MAX_U32 = 0xffff_ffff;

/** An htb class to add or change; rates in bytes per second, as the kernel keeps them. */
export interface HtbClassSpec {
  readonly kind: 'htb';
  /** The parent qdisc or class (`1:`, `1:1`). */
  readonly parent: string;
  /** The class id (`1:10`). */
  readonly classid: string;
  /** The guaranteed rate, bytes/s. */
  readonly rate: number;
  /** The ceiling, bytes/s; default `rate`. */
  readonly ceil?: number;
  /** Bytes that may be sent at full speed; default as tc's, rate/HZ plus an MTU (HZ 1000, MTU 1600). */
  readonly burst?: number;
  readonly cburst?: number;
  /** The priority among siblings, 0 (highest) to 7. */
  readonly prio?: number;
  /** Bytes a class may send per round; default the kernel's (from rate2quantum). */
  readonly quantum?: number;
}

/** A class as read from the kernel (`tc class show`). */
export interface TcClass {
  readonly kind: string;
  readonly index: number;
  readonly classid: string;
  readonly parent: string;
  /** The htb parameters, for an htb class. */
  readonly htb?: { rate: number; ceil: number; burst: number; cburst: number; prio: number; quantum: number; level: number };
}

function tcmsg(writer: MessageWriter, index: number, handle: number, parent: number): void {
  const at = writer.zeros(20);
  writer.buffer.writeInt32LE(index, at + 4);
  writer.buffer.writeUInt32LE(handle >>> 0, at + 8);
  writer.buffer.writeUInt32LE(parent >>> 0, at + 12);
}

/** Decodes an RTM_NEWTCLASS message. Exported for tests against captured bytes. */
export function decodeClass(message: RawMessage): TcClass | undefined {
  if (message.type !== RTM_NEWTCLASS) return undefined;
  const payload = message.payload;
  const attrs = attributes(payload, 20);
  const kind = str(attrs.get(TCA_KIND)) ?? '';
  const base = { kind, index: payload.readInt32LE(4), classid: formatHandle(payload.readUInt32LE(8)), parent: formatHandle(payload.readUInt32LE(12)) };
  if (kind !== 'htb' || !attrs.has(TCA_OPTIONS)) return base;
  const options = attributes(attrs.get(TCA_OPTIONS)!);
  const parms = options.get(TCA_HTB_PARMS);
  if (!parms || parms.length < 44) return base;
  const rate64 = options.get(TCA_HTB_RATE64);
  const ceil64 = options.get(TCA_HTB_CEIL64);
  const rate = rate64 ? Number(rate64.readBigUInt64LE(0)) : parms.readUInt32LE(8);
  const ceil = ceil64 ? Number(ceil64.readBigUInt64LE(0)) : parms.readUInt32LE(20);
  const bytesOf = (ticks: number, bytesPerSecond: number) => Math.round((ticks * NS_PER_TICK * bytesPerSecond) / 1e9);
  return {
    ...base,
    htb: {
      rate,
      ceil,
      burst: bytesOf(parms.readUInt32LE(24), rate),
      cburst: bytesOf(parms.readUInt32LE(28), ceil),
      quantum: parms.readUInt32LE(32),
      level: parms.readUInt32LE(36),
      prio: parms.readUInt32LE(40),
    },
  };
}

/** A `struct tc_ratespec` for an Ethernet link (the kernel then needs no rate table). */
function ratespec(bytesPerSecond: number): Buffer {
  const spec = Buffer.alloc(12);
  spec.writeUInt8(TC_LINKLAYER_ETHERNET, 1);
  spec.writeUInt32LE(Math.min(bytesPerSecond, MAX_U32), 8);
  return spec;
}

/** Writes the TCA_OPTIONS of an htb class: `struct tc_htb_opt`, and the 64-bit rates beyond 4 GB/s. */
export function encodeHtbClass(writer: MessageWriter, spec: HtbClassSpec): void {
  const rate = Math.round(spec.rate);
  const ceil = Math.round(spec.ceil ?? spec.rate);
  const ticks = (bytes: number, bytesPerSecond: number) => Math.min(MAX_U32, Math.round((bytes * 1e9) / bytesPerSecond / NS_PER_TICK));
  const burst = spec.burst ?? Math.ceil(rate / 1000 + 1600);
  const cburst = spec.cburst ?? Math.ceil(ceil / 1000 + 1600);
  const opt = Buffer.alloc(44);
  ratespec(rate).copy(opt, 0);
  ratespec(ceil).copy(opt, 12);
  opt.writeUInt32LE(ticks(burst, rate), 24);
  opt.writeUInt32LE(ticks(cburst, ceil), 28);
  opt.writeUInt32LE(spec.quantum ?? 0, 32);
  opt.writeUInt32LE(spec.prio ?? 0, 40);
  writer.string(TCA_KIND, 'htb');
  writer.nest(TCA_OPTIONS, () => {
    writer.attr(TCA_HTB_PARMS, opt);
    if (rate > MAX_U32) writer.u64(TCA_HTB_RATE64, rate);
    if (ceil > MAX_U32) writer.u64(TCA_HTB_CEIL64, ceil);
  });
}

/** Traffic control classes (htb): list, add, change, replace and delete. Reached as `nl.tclass`. */
export class ClassApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /** The classes of a link. Equivalent to `tc class show dev eth0`. */
  async list(link: LinkSelector): Promise<TcClass[]> {
    const index = this.#links.indexOf(link);
    return this.#conn.query(
      { operation: 'class.list', target: describeSelector(link), link: true },
      RTM_GETTCLASS,
      NLM_F_DUMP,
      (writer) => tcmsg(writer, index, 0, 0),
      decodeClass,
    );
  }

  /** Adds a class. Equivalent to `tc class add dev eth0 parent 1: classid 1:10 htb rate 1mbit ceil 2mbit prio 1`. */
  async add(link: LinkSelector, spec: HtbClassSpec): Promise<void> {
    this.#change('class.add', RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, link, spec);
  }

  /** Changes an existing class. Equivalent to `tc class change dev eth0 parent 1: classid 1:10 htb rate 2mbit`. */
  async change(link: LinkSelector, spec: HtbClassSpec): Promise<void> {
    this.#change('class.change', RTM_NEWTCLASS, 0, link, spec);
  }

  /** Adds or changes a class. Equivalent to `tc class replace dev eth0 parent 1: classid 1:10 htb rate 2mbit`. */
  async replace(link: LinkSelector, spec: HtbClassSpec): Promise<void> {
    this.#change('class.replace', RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_REPLACE, link, spec);
  }

  /** Deletes a class (it must have no children). Equivalent to `tc class del dev eth0 classid 1:10`. */
  async del(link: LinkSelector, classid: string): Promise<void> {
    const target = `${describeSelector(link)} ${classid}`;
    const handle = parseHandle(classid);
    if (handle === undefined) throw invalidArgument('class.del', target, `invalid class id "${classid}"`);
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation: 'class.del', target, link: true }, RTM_DELTCLASS, 0, (writer) => tcmsg(writer, index, handle, 0));
  }

  #change(operation: string, type: number, flags: number, link: LinkSelector, spec: HtbClassSpec): void {
    const target = `${describeSelector(link)} ${spec.classid}`;
    if (spec.kind !== 'htb') throw invalidArgument(operation, target, `unsupported class kind "${spec.kind as string}"`);
    const handle = parseHandle(spec.classid);
    const parent = parseHandle(spec.parent);
    if (handle === undefined || (handle & 0xffff) === 0) throw invalidArgument(operation, target, `invalid class id "${spec.classid}", must be major:minor with a minor`);
    if (parent === undefined) throw invalidArgument(operation, target, `invalid parent "${spec.parent}"`);
    for (const [name, value] of [['rate', spec.rate], ['ceil', spec.ceil], ['burst', spec.burst], ['cburst', spec.cburst]] as const) {
      if (value !== undefined && !(value > 0 && Number.isFinite(value))) throw invalidArgument(operation, target, `invalid htb ${name} ${value}, must be positive`);
    }
    if (spec.prio !== undefined && (!Number.isInteger(spec.prio) || spec.prio < 0 || spec.prio > 7)) throw invalidArgument(operation, target, `invalid htb prio ${spec.prio}, must be [0, 7]`);
    const index = this.#links.indexOf(link);
    this.#conn.request({ operation, target, link: true }, type, flags, (writer) => {
      tcmsg(writer, index, handle, parent);
      encodeHtbClass(writer, spec);
    });
  }
}
