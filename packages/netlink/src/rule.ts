// SPDX-License-Identifier: Apache-2.0
import { invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, type Connection } from './internal/connection.ts';
import { AF_INET, AF_INET6, formatAddress, networkOf, parseAddress, type ParsedAddress } from './internal/ip.ts';
import { attributes, str, u32, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { checkLinkName, type LinkApi } from './link.ts';

const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;
const RTM_GETRULE = 34;

const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IIFNAME = 3;
const FRA_GOTO = 4;
const FRA_PRIORITY = 6;
const FRA_FWMARK = 10;
const FRA_TABLE = 15;
const FRA_FWMASK = 16;
const FRA_SUPPRESS_PREFIXLEN = 14;
const FRA_OIFNAME = 17;

const FR_ACT_TO_TBL = 1;
const FR_ACT_GOTO = 2;

/** A policy routing rule to add or delete. */
export interface RuleSpec {
  /** Default 4, or the family of `from`/`to`. */
  readonly family?: 4 | 6;
  readonly priority?: number;
  /** The source prefix (`from 10.1.0.0/16`). */
  readonly from?: string;
  /** The destination prefix (`to 10.2.0.0/16`). */
  readonly to?: string;
  /** The table to look up; required unless `goto` is given. */
  readonly table?: number;
  /** The input interface name (`iif`). */
  readonly iif?: string;
  /** The output interface name (`oif`). */
  readonly oif?: string;
  /** Match packets with this firewall mark (`fwmark 0x10`), under `fwmask` when given (`fwmark 0x10/0xff`). */
  readonly fwmark?: number;
  readonly fwmask?: number;
  /** Reject routes of the table with a prefix this long or shorter (`suppress_prefixlength 0`). */
  readonly suppressPrefixLength?: number;
  /** Jump to the rule of this priority instead of looking up a table (`goto 32000`). */
  readonly goto?: number;
}

/** A rule as read from the kernel. */
export interface Rule {
  readonly family: 4 | 6;
  readonly priority: number | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly table: number;
  readonly iif: string | undefined;
  readonly oif: string | undefined;
  readonly fwmark: number | undefined;
  readonly fwmask: number | undefined;
  readonly suppressPrefixLength: number | undefined;
  /** The priority a `goto` rule jumps to. */
  readonly goto: number | undefined;
  /** FR_ACT_*: 1 is "lookup a table", 2 "goto". */
  readonly action: number;
}

function decodeRule(message: RawMessage): Rule | undefined {
  if (message.type !== RTM_NEWRULE) return undefined;
  const payload = message.payload;
  const attrs = attributes(payload, 12);
  const prefix = (type: number, length: number): string | undefined => {
    const value = attrs.get(type);
    return value ? `${formatAddress(Buffer.from(value))}/${length}` : undefined;
  };
  return {
    family: payload.readUInt8(0) === AF_INET6 ? 6 : 4,
    priority: u32(attrs.get(FRA_PRIORITY)),
    from: prefix(FRA_SRC, payload.readUInt8(2)),
    to: prefix(FRA_DST, payload.readUInt8(1)),
    table: u32(attrs.get(FRA_TABLE)) ?? payload.readUInt8(4),
    iif: str(attrs.get(FRA_IIFNAME)),
    oif: str(attrs.get(FRA_OIFNAME)),
    fwmark: u32(attrs.get(FRA_FWMARK)),
    fwmask: u32(attrs.get(FRA_FWMASK)),
    // The kernel reports (u32)-1 when the rule has none.
    suppressPrefixLength: ((value) => (value === undefined || value === 0xffff_ffff ? undefined : value))(u32(attrs.get(FRA_SUPPRESS_PREFIXLEN))),
    goto: u32(attrs.get(FRA_GOTO)),
    action: payload.readUInt8(7),
  };
}

function ruleHeader(writer: MessageWriter, family: number, dstLength: number, srcLength: number, table: number, action: number): void {
  const at = writer.zeros(12);
  writer.buffer.writeUInt8(family, at);
  writer.buffer.writeUInt8(dstLength, at + 1);
  writer.buffer.writeUInt8(srcLength, at + 2);
  writer.buffer.writeUInt8(table < 256 ? table : 0, at + 4);
  writer.buffer.writeUInt8(action, at + 7);
}

/** Policy routing rules: list, add and delete. Reached as `nl.rule`. */
export class RuleApi {
  readonly #conn: Connection;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, _links: LinkApi) {
    this.#conn = conn;
  }

  /** The rules of one family (IPv4 by default). Equivalent to `ip [-6] rule show`. */
  async list(family: 4 | 6 = 4): Promise<Rule[]> {
    return this.#conn.query(
      { operation: 'rule.list', target: '' },
      RTM_GETRULE,
      NLM_F_DUMP,
      (writer) => ruleHeader(writer, family === 6 ? AF_INET6 : AF_INET, 0, 0, 0, 0),
      decodeRule,
    );
  }

  /**
   * Adds a rule. Equivalent to `ip rule add from 10.1.0.0/16 table 100 priority 1000`, and the
   * `fwmark 0x10/0xff`, `suppress_prefixlength 0` and `goto 32000` forms.
   */
  async add(rule: RuleSpec): Promise<void> {
    this.#change('rule.add', RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule);
  }

  /** Deletes the rule that matches. Equivalent to `ip rule del from 10.1.0.0/16 table 100 priority 1000`. */
  async del(rule: RuleSpec): Promise<void> {
    this.#change('rule.del', RTM_DELRULE, 0, rule);
  }

  #change(operation: string, type: number, flags: number, rule: RuleSpec): void {
    const target = [
      rule.from && `from ${rule.from}`,
      rule.to && `to ${rule.to}`,
      rule.fwmark !== undefined && `fwmark ${rule.fwmark}`,
      rule.goto !== undefined ? `goto ${rule.goto}` : `table ${rule.table}`,
    ]
      .filter(Boolean)
      .join(' ');
    const u32Key = (name: string, value: number | undefined): void => {
      if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)) {
        throw invalidArgument(operation, target, `invalid ${name} ${value}, must be [0, 4294967295]`);
      }
    };
    u32Key('fwmark', rule.fwmark);
    u32Key('fwmask', rule.fwmask);
    u32Key('suppress_prefixlength', rule.suppressPrefixLength);
    u32Key('goto', rule.goto);
    u32Key('table', rule.table);
    if (rule.fwmask !== undefined && rule.fwmark === undefined) throw invalidArgument(operation, target, 'fwmask needs fwmark');
    if (rule.goto === undefined && rule.table === undefined) throw invalidArgument(operation, target, 'a rule needs a table or a goto');
    if (rule.goto !== undefined && rule.table !== undefined) throw invalidArgument(operation, target, 'a rule has a table or a goto, not both');
    const parse = (text: string | undefined): ParsedAddress | undefined => {
      if (text === undefined) return undefined;
      const parsed = parseAddress(text);
      if (!parsed) throw invalidArgument(operation, target, `invalid CIDR address "${text}"`);
      return parsed;
    };
    const from = parse(rule.from);
    const to = parse(rule.to);
    const family = from?.family ?? to?.family ?? (rule.family === 6 ? AF_INET6 : AF_INET);
    if ((from && from.family !== family) || (to && to.family !== family)) {
      throw invalidArgument(operation, target, 'the prefixes of a rule must be of one family');
    }
    if (rule.iif !== undefined) checkLinkName(operation, rule.iif);
    if (rule.oif !== undefined) checkLinkName(operation, rule.oif);
    this.#conn.request({ operation, target }, type, flags, (writer) => {
      ruleHeader(writer, family, to?.prefix ?? 0, from?.prefix ?? 0, rule.table ?? 0, rule.goto === undefined ? FR_ACT_TO_TBL : FR_ACT_GOTO);
      if (from) writer.attr(FRA_SRC, networkOf(from.bytes, from.prefix));
      if (to) writer.attr(FRA_DST, networkOf(to.bytes, to.prefix));
      if (rule.priority !== undefined) writer.u32(FRA_PRIORITY, rule.priority);
      if (rule.table !== undefined) writer.u32(FRA_TABLE, rule.table);
      if (rule.goto !== undefined) writer.u32(FRA_GOTO, rule.goto);
      if (rule.fwmark !== undefined) writer.u32(FRA_FWMARK, rule.fwmark);
      if (rule.fwmask !== undefined) writer.u32(FRA_FWMASK, rule.fwmask);
      if (rule.suppressPrefixLength !== undefined) writer.u32(FRA_SUPPRESS_PREFIXLEN, rule.suppressPrefixLength);
      if (rule.iif !== undefined) writer.string(FRA_IIFNAME, rule.iif);
      if (rule.oif !== undefined) writer.string(FRA_OIFNAME, rule.oif);
    });
  }
}
