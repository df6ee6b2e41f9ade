// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError, invalidArgument } from './errors.ts';
import type { Connection } from './internal/connection.ts';
import { attributeList, attributes, u32, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { describeSelector, checkLinkName } from './link.ts';
import type { LinkApi } from './link.ts';
import type { LinkSelector } from './types.ts';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const AF_UNSPEC = 0;

const IFLA_IFNAME = 3;
const IFLA_NUM_VF = 21;
const IFLA_VFINFO_LIST = 22;
const IFLA_EXT_MASK = 29;

const IFLA_VF_INFO = 1;
const IFLA_VF_MAC = 1;
const IFLA_VF_VLAN = 2;
const IFLA_VF_TX_RATE = 3;
const IFLA_VF_SPOOFCHK = 4;
const IFLA_VF_LINK_STATE = 5;
const IFLA_VF_RATE = 6;
const IFLA_VF_RSS_QUERY_EN = 7;
const IFLA_VF_TRUST = 9;
const IFLA_VF_IB_NODE_GUID = 10;
const IFLA_VF_IB_PORT_GUID = 11;
const IFLA_VF_VLAN_LIST = 12;
const IFLA_VF_BROADCAST = 13;
const IFLA_VF_VLAN_INFO = 1;

const RTEXT_FILTER_VF = 1 << 0;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;

/** A VF's link state: follow the PF's (`auto`), always up (`enable`) or always down (`disable`). */
export type VfLinkState = 'auto' | 'enable' | 'disable';

/** The VLAN tag protocol of a VF's port VLAN. */
export type VfVlanProto = '802.1Q' | '802.1ad';

const linkStates: VfLinkState[] = ['auto', 'enable', 'disable'];

/** One entry of a VF's VLAN list (the kernel reports one: the port VLAN). */
export interface VfVlan {
  /** The VLAN id, 0 for none. */
  readonly vlan: number;
  /** The 802.1p priority, 0-7. */
  readonly qos: number;
  readonly proto: VfVlanProto;
}

/** What the kernel reports of one VF in `IFLA_VFINFO_LIST` (`ip -d link show PF`, `vf N ...`). */
export interface VfInfo {
  /** The VF number on its PF. */
  readonly vf: number;
  /** The administrative MAC the PF assigned, `00:00:00:00:00:00` when none. */
  readonly mac: string;
  /** The broadcast address, when the kernel reports it (5.4+). */
  readonly broadcast?: string;
  /** The port VLAN (`IFLA_VF_VLAN`): id and priority; the protocol comes from the VLAN list. */
  readonly vlan: number;
  readonly qos: number;
  readonly vlanProto: VfVlanProto;
  /** `IFLA_VF_VLAN_LIST` as reported (empty on kernels without it). */
  readonly vlans: readonly VfVlan[];
  /** The legacy maximum rate (`IFLA_VF_TX_RATE`), Mbit/s. */
  readonly txRate: number;
  /** Minimum and maximum transmit rates (`IFLA_VF_RATE`), Mbit/s, 0 for unlimited. */
  readonly minTxRate: number;
  readonly maxTxRate: number;
  /** Undefined when the driver does not report it (the kernel sends -1). */
  readonly spoofchk?: boolean;
  readonly trust?: boolean;
  readonly rssQueryEn?: boolean;
  readonly linkState: VfLinkState;
  /** InfiniBand GUIDs, when the kernel reports them. */
  readonly nodeGuid?: string;
  readonly portGuid?: string;
}

/** The VFs of a PF: how many are enabled (`IFLA_NUM_VF`) and what each reports. */
export interface VfList {
  readonly numVfs: number;
  readonly vfs: readonly VfInfo[];
}

/** The settings {@link VfApi.set} applies to one VF; absent keys are left as they are. */
export interface VfSettings {
  /** `ip link set PF vf N mac aa:bb:cc:dd:ee:ff`. */
  readonly mac?: string;
  /** `ip link set PF vf N vlan 10 qos 2 proto 802.1ad` (vlan 0 clears it). */
  readonly vlan?: { readonly vlan: number; readonly qos?: number; readonly proto?: VfVlanProto };
  /** `ip link set PF vf N min_tx_rate 10 max_tx_rate 100`, Mbit/s, 0 for unlimited. */
  readonly rate?: { readonly minTxRate: number; readonly maxTxRate: number };
  /** `ip link set PF vf N spoofchk on`. */
  readonly spoofchk?: boolean;
  /** `ip link set PF vf N trust on`. */
  readonly trust?: boolean;
  /** `ip link set PF vf N state auto|enable|disable`. */
  readonly linkState?: VfLinkState;
}

function formatMac(bytes: Buffer): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

function guid(value: Buffer | undefined): string | undefined {
  if (!value || value.length < 12) return undefined;
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value.readBigUInt64LE(4));
  return formatMac(bytes);
}

/** A `{u32 vf; u32 setting}` whose setting the kernel reports as (u32)-1 when the driver has none. */
function setting(value: Buffer | undefined): boolean | undefined {
  const raw = u32(value?.subarray(4));
  if (raw === undefined || raw === 0xffff_ffff) return undefined;
  return raw !== 0;
}

/**
 * Decodes an `IFLA_VFINFO_LIST` attribute's payload. `addressLength` is the PF's hardware address
 * length (6 for Ethernet): `ifla_vf_mac` carries 32 bytes of which only that many are meaningful.
 */
export function decodeVfInfoList(payload: Buffer, addressLength = 6): VfInfo[] {
  const vfs: VfInfo[] = [];
  for (const [type, value] of attributeList(payload)) {
    if (type !== IFLA_VF_INFO) continue;
    const attrs = attributes(value);
    const macAttr = attrs.get(IFLA_VF_MAC);
    const vlanAttr = attrs.get(IFLA_VF_VLAN);
    const rate = attrs.get(IFLA_VF_RATE);
    const vlans: VfVlan[] = [];
    const list = attrs.get(IFLA_VF_VLAN_LIST);
    if (list) {
      for (const [itemType, item] of attributeList(list)) {
        if (itemType !== IFLA_VF_VLAN_INFO || item.length < 14) continue;
        vlans.push({ vlan: item.readUInt32LE(4), qos: item.readUInt32LE(8), proto: item.readUInt16BE(12) === ETH_P_8021AD ? '802.1ad' : '802.1Q' });
      }
    }
    const vf = u32(macAttr) ?? u32(vlanAttr) ?? vfs.length;
    const broadcast = attrs.get(IFLA_VF_BROADCAST);
    const spoofchk = setting(attrs.get(IFLA_VF_SPOOFCHK));
    const trust = setting(attrs.get(IFLA_VF_TRUST));
    const rssQueryEn = setting(attrs.get(IFLA_VF_RSS_QUERY_EN));
    const nodeGuid = guid(attrs.get(IFLA_VF_IB_NODE_GUID));
    const portGuid = guid(attrs.get(IFLA_VF_IB_PORT_GUID));
    vfs.push({
      vf,
      mac: macAttr && macAttr.length >= 4 + addressLength ? formatMac(macAttr.subarray(4, 4 + addressLength)) : '00:00:00:00:00:00',
      ...(broadcast && broadcast.length >= addressLength ? { broadcast: formatMac(broadcast.subarray(0, addressLength)) } : {}),
      vlan: u32(vlanAttr?.subarray(4)) ?? 0,
      qos: u32(vlanAttr?.subarray(8)) ?? 0,
      vlanProto: vlans[0]?.proto ?? '802.1Q',
      vlans,
      txRate: u32(attrs.get(IFLA_VF_TX_RATE)?.subarray(4)) ?? 0,
      minTxRate: u32(rate?.subarray(4)) ?? 0,
      maxTxRate: u32(rate?.subarray(8)) ?? 0,
      ...(spoofchk === undefined ? {} : { spoofchk }),
      ...(trust === undefined ? {} : { trust }),
      ...(rssQueryEn === undefined ? {} : { rssQueryEn }),
      linkState: linkStates[u32(attrs.get(IFLA_VF_LINK_STATE)?.subarray(4)) ?? 0] ?? 'auto',
      ...(nodeGuid === undefined ? {} : { nodeGuid }),
      ...(portGuid === undefined ? {} : { portGuid }),
    });
  }
  return vfs;
}

/** Decodes the VF part of an RTM_NEWLINK reply. */
function decodeVfList(message: RawMessage): VfList | undefined {
  if (message.type !== RTM_NEWLINK) return undefined;
  const attrs = attributes(message.payload, 16);
  const address = attrs.get(1);
  const list = attrs.get(IFLA_VFINFO_LIST);
  return { numVfs: u32(attrs.get(IFLA_NUM_VF)) ?? 0, vfs: list ? decodeVfInfoList(list, address?.length || 6) : [] };
}

function u32Pair(vf: number, value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(vf, 0);
  bytes.writeUInt32LE(value >>> 0, 4);
  return bytes;
}

function checkU32(operation: string, target: string, name: string, value: number, max = 0xffff_ffff): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw invalidArgument(operation, target, `invalid ${name} ${value}, must be [0, ${max}]`);
}

/**
 * Writes the `IFLA_VFINFO_LIST` of a request that changes VF `vf`, refusing out-of-range values
 * before the kernel sees them. Exported for tests against captured bytes.
 */
export function encodeVfSettings(writer: MessageWriter, vf: number, settings: VfSettings, operation = 'vf.set', target = ''): void {
  checkU32(operation, target, 'VF number', vf);
  let macBytes: Buffer | undefined;
  if (settings.mac !== undefined) {
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(settings.mac)) throw invalidArgument(operation, target, `invalid MAC address "${settings.mac}"`);
    macBytes = Buffer.alloc(36);
    macBytes.writeUInt32LE(vf, 0);
    Buffer.from(settings.mac.split(':').map((part) => parseInt(part, 16))).copy(macBytes, 4);
  }
  let vlanBytes: Buffer | undefined;
  if (settings.vlan !== undefined) {
    const { vlan, qos = 0, proto = '802.1Q' } = settings.vlan;
    checkU32(operation, target, 'VLAN id', vlan, 4095);
    checkU32(operation, target, 'VLAN qos', qos, 7);
    if (proto !== '802.1Q' && proto !== '802.1ad') throw invalidArgument(operation, target, `invalid VLAN protocol "${proto as string}", must be 802.1Q or 802.1ad`);
    vlanBytes = Buffer.alloc(16);
    vlanBytes.writeUInt32LE(vf, 0);
    vlanBytes.writeUInt32LE(vlan, 4);
    vlanBytes.writeUInt32LE(qos, 8);
    vlanBytes.writeUInt16BE(proto === '802.1ad' ? ETH_P_8021AD : ETH_P_8021Q, 12);
  }
  let rateBytes: Buffer | undefined;
  if (settings.rate !== undefined) {
    checkU32(operation, target, 'min_tx_rate', settings.rate.minTxRate);
    checkU32(operation, target, 'max_tx_rate', settings.rate.maxTxRate);
    rateBytes = Buffer.alloc(12);
    rateBytes.writeUInt32LE(vf, 0);
    rateBytes.writeUInt32LE(settings.rate.minTxRate, 4);
    rateBytes.writeUInt32LE(settings.rate.maxTxRate, 8);
  }
  let linkState: number | undefined;
  if (settings.linkState !== undefined) {
    linkState = linkStates.indexOf(settings.linkState);
    if (linkState < 0) throw invalidArgument(operation, target, `invalid VF link state "${settings.linkState as string}", must be auto, enable or disable`);
  }
  writer.nest(IFLA_VFINFO_LIST, () => {
    writer.nest(IFLA_VF_INFO, () => {
      if (macBytes) writer.attr(IFLA_VF_MAC, macBytes);
      if (vlanBytes) {
        // The list form carries the protocol (802.1ad); drivers without it refuse 802.1ad only.
        writer.nest(IFLA_VF_VLAN_LIST, () => writer.attr(IFLA_VF_VLAN_INFO, vlanBytes));
      }
      if (rateBytes) writer.attr(IFLA_VF_RATE, rateBytes);
      if (settings.spoofchk !== undefined) writer.attr(IFLA_VF_SPOOFCHK, u32Pair(vf, settings.spoofchk ? 1 : 0));
      if (settings.trust !== undefined) writer.attr(IFLA_VF_TRUST, u32Pair(vf, settings.trust ? 1 : 0));
      if (linkState !== undefined) writer.attr(IFLA_VF_LINK_STATE, u32Pair(vf, linkState));
    });
  });
}

/**
 * SR-IOV virtual functions, read and set through their physical function (PF), as
 * `ip link show PF` / `ip link set PF vf N ...` do. Reached as `nl.vf`; the PF is in the handle's
 * namespace. Needs a driver with SR-IOV (a NIC's, or `netdevsim` for tests).
 */
export class VfApi {
  readonly #conn: Connection;
  readonly #links: LinkApi;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, links: LinkApi) {
    this.#conn = conn;
    this.#links = links;
  }

  /**
   * How many VFs the PF has enabled and each one's settings.
   * Equivalent to `ip -d link show dev PF` (its `vf N ...` lines, `vfinfo_list` in `-j`).
   */
  async list(pf: LinkSelector): Promise<VfList> {
    const context = { operation: 'vf.list', target: describeSelector(pf), link: true };
    if ('name' in pf) checkLinkName(context.operation, pf.name);
    const index = 'index' in pf ? pf.index : 'alias' in pf ? this.#links.indexOf(pf) : 0;
    const [found] = this.#conn.query(
      context,
      RTM_GETLINK,
      0,
      (writer) => {
        ifinfo(writer, index);
        if ('name' in pf) writer.string(IFLA_IFNAME, pf.name);
        writer.u32(IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
      },
      decodeVfList,
    );
    if (!found) throw new LinkNotFoundError(context);
    return found;
  }

  /**
   * One VF's settings; a VF number the PF does not have is an `InvalidArgument` error.
   * Equivalent to `ip -d link show dev PF` and reading its `vf N` line.
   */
  async get(pf: LinkSelector, vf: number): Promise<VfInfo> {
    const { numVfs, vfs } = await this.list(pf);
    const found = vfs.find((info) => info.vf === vf);
    if (!found) throw invalidArgument('vf.get', describeSelector(pf), `VF ${vf} does not exist (the PF has ${numVfs})`);
    return found;
  }

  /**
   * Changes several settings of one VF in one request (the kernel applies them in the order MAC,
   * VLAN, rate, spoofchk, link state, trust, and stops at the first the driver refuses).
   * Equivalent to `ip link set dev PF vf N mac M vlan V qos Q proto P min_tx_rate A max_tx_rate B spoofchk on trust on state auto`.
   */
  async set(pf: LinkSelector, vf: number, settings: VfSettings): Promise<void> {
    const context = { operation: 'vf.set', target: `${describeSelector(pf)} vf ${vf}`, link: true };
    if ('name' in pf) checkLinkName(context.operation, pf.name);
    const index = 'index' in pf ? pf.index : 'alias' in pf ? this.#links.indexOf(pf) : 0;
    // Validate before building: encodeVfSettings throws on bad values, never half-written.
    this.#conn.request(context, RTM_NEWLINK, 0, (writer) => {
      ifinfo(writer, index);
      if ('name' in pf) writer.string(IFLA_IFNAME, pf.name);
      encodeVfSettings(writer, vf, settings, context.operation, context.target);
    });
  }

  /** Sets the VF's MAC. Equivalent to `ip link set dev PF vf N mac aa:bb:cc:dd:ee:ff`. */
  async setMac(pf: LinkSelector, vf: number, mac: string): Promise<void> {
    return this.set(pf, vf, { mac });
  }

  /** Sets the VF's port VLAN. Equivalent to `ip link set dev PF vf N vlan 10 qos 2 proto 802.1ad`. */
  async setVlan(pf: LinkSelector, vf: number, vlan: number, qos = 0, proto: VfVlanProto = '802.1Q'): Promise<void> {
    return this.set(pf, vf, { vlan: { vlan, qos, proto } });
  }

  /** Sets the VF's rates in Mbit/s. Equivalent to `ip link set dev PF vf N min_tx_rate 10 max_tx_rate 100`. */
  async setRate(pf: LinkSelector, vf: number, minTxRate: number, maxTxRate: number): Promise<void> {
    return this.set(pf, vf, { rate: { minTxRate, maxTxRate } });
  }

  /** Turns MAC spoof checking on or off. Equivalent to `ip link set dev PF vf N spoofchk on`. */
  async setSpoofchk(pf: LinkSelector, vf: number, on: boolean): Promise<void> {
    return this.set(pf, vf, { spoofchk: on });
  }

  /** Trusts the VF (promiscuous, MAC changes) or not. Equivalent to `ip link set dev PF vf N trust on`. */
  async setTrust(pf: LinkSelector, vf: number, on: boolean): Promise<void> {
    return this.set(pf, vf, { trust: on });
  }

  /** Sets the VF's link state. Equivalent to `ip link set dev PF vf N state auto|enable|disable`. */
  async setLinkState(pf: LinkSelector, vf: number, state: VfLinkState): Promise<void> {
    return this.set(pf, vf, { linkState: state });
  }
}

function ifinfo(writer: MessageWriter, index: number): void {
  const at = writer.zeros(16);
  writer.buffer.writeUInt8(AF_UNSPEC, at);
  writer.buffer.writeInt32LE(index, at + 4);
}
