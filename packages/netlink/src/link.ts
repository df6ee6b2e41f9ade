// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError, NetlinkError, invalidArgument } from './errors.ts';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, type Connection, type OperationContext } from './internal/connection.ts';
import { createTunTap } from './internal/ffi/libnl.ts';
import { AF_INET, formatAddress, parseAddress } from './internal/ip.ts';
import { attributeList, attributes, mac, str, u16, u32, u8, type Attributes, type RawMessage } from './internal/message/reader.ts';
import type { MessageWriter } from './internal/message/writer.ts';
import { withNetnsFd } from './internal/netns.ts';
import type {
  BondMode,
  BridgePortOptions,
  BridgePortState,
  BridgeVlanOptions,
  IpvlanFlag,
  IpvlanMode,
  Link,
  LinkAdd,
  LinkBase,
  MacvlanMode,
} from './link-types.ts';
import type { LinkSelector, NetnsRef } from './types.ts';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;

const AF_UNSPEC = 0;
const AF_BRIDGE = 7;

const IFF_UP = 0x1;
const IFF_PROMISC = 0x100;
const IFF_ALLMULTI = 0x200;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_TXQLEN = 13;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_AF_SPEC = 26;
const IFLA_NET_NS_FD = 28;
const IFLA_EXT_MASK = 29;
const IFLA_LINK_NETNSID = 37;

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;

const VETH_INFO_PEER = 1;

const IFLA_BR_FORWARD_DELAY = 1;
const IFLA_BR_AGEING_TIME = 4;
const IFLA_BR_STP_STATE = 5;
const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_BR_MCAST_SNOOPING = 23;
const IFLA_BR_VLAN_DEFAULT_PVID = 39;

const IFLA_BRPORT_MODE = 4;
const IFLA_BRPORT_LEARNING = 8;
const IFLA_BRPORT_ISOLATED = 33;

const IFLA_BRIDGE_FLAGS = 0;
const IFLA_BRIDGE_VLAN_INFO = 2;
const BRIDGE_FLAGS_MASTER = 1;
const BRIDGE_FLAGS_SELF = 2;
const BRIDGE_VLAN_INFO_PVID = 2;
const BRIDGE_VLAN_INFO_UNTAGGED = 4;

const IFLA_MACVLAN_MODE = 1;
const IFLA_MACVLAN_BC_QUEUE_LEN = 7;
const IFLA_IPVLAN_MODE = 1;
const IFLA_IPVLAN_FLAGS = 2;
const IFLA_VLAN_ID = 1;
const IFLA_VLAN_PROTOCOL = 5;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_GROUP = 2;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_TTL = 5;
const IFLA_VXLAN_LEARNING = 7;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_GROUP6 = 16;
const IFLA_VXLAN_LOCAL6 = 17;
const IFLA_VRF_TABLE = 1;
const IFLA_BOND_MODE = 1;
const IFLA_BOND_MIIMON = 3;
const IFLA_BOND_UPDELAY = 4;
const IFLA_BOND_DOWNDELAY = 5;
const IFLA_BOND_MIN_LINKS = 18;
const IFLA_TUN_OWNER = 1;
const IFLA_TUN_GROUP = 2;
const IFLA_TUN_TYPE = 3;
const IFLA_TUN_MULTI_QUEUE = 7;

// Statistics are large and never read here: leave them out of every reply.
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

const macvlanModes: Record<MacvlanMode, number> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 };
const ipvlanModes: Record<IpvlanMode, number> = { l2: 0, l3: 1, l3s: 2 };
// IPVLAN_F_PRIVATE = 1, IPVLAN_F_VEPA = 2; bridge is neither.
const ipvlanFlags: Record<IpvlanFlag, number> = { bridge: 0, private: 1, vepa: 2 };
const bondModes: BondMode[] = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'];
const operStates = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

function keyOf<K extends string>(table: Record<K, number>, value: number | undefined): K | undefined {
  if (value === undefined) return undefined;
  return (Object.keys(table) as K[]).find((key) => table[key] === value);
}

/** Describes a selector for error messages: the name, `index 7` or `alias "x"`. */
export function describeSelector(selector: LinkSelector): string {
  if ('name' in selector) return selector.name;
  if ('index' in selector) return `index ${selector.index}`;
  return `alias "${selector.alias}"`;
}

/** Refuses names the kernel would refuse, before asking it (dev_valid_name). */
export function checkLinkName(operation: string, name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > 15) {
    throw invalidArgument(operation, name, `invalid link name "${name}", must be 1 to 15 bytes long`);
  }
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw invalidArgument(operation, name, `invalid link name "${name}", must not contain "/", ":" or spaces`);
  }
}

function parseMac(operation: string, target: string, text: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) {
    throw invalidArgument(operation, target, `invalid MAC address "${text}"`);
  }
  return Buffer.from(text.split(':').map((part) => parseInt(part, 16)));
}

/** Writes an ifinfomsg header. */
function ifinfo(writer: MessageWriter, family: number, index: number, flags = 0, change = 0): void {
  const at = writer.zeros(16);
  writer.buffer.writeUInt8(family, at);
  writer.buffer.writeInt32LE(index, at + 4);
  writer.buffer.writeUInt32LE(flags >>> 0, at + 8);
  writer.buffer.writeUInt32LE(change >>> 0, at + 12);
}

/** Writes the selector into a request: the index in the header, or the name as IFLA_IFNAME. */
function selectorIndex(selector: LinkSelector): number {
  return 'index' in selector ? selector.index : 0;
}

function decodeBridgePort(data: Attributes): BridgePortState {
  return {
    hairpin: u8(data.get(IFLA_BRPORT_MODE)) === 1,
    isolated: u8(data.get(IFLA_BRPORT_ISOLATED)) === 1,
    learning: u8(data.get(IFLA_BRPORT_LEARNING)) === 1,
  };
}

/** Decodes an RTM_NEWLINK message into a {@link Link}. */
export function decodeLink(message: RawMessage): Link | undefined {
  if (message.type !== RTM_NEWLINK) return undefined;
  const payload = message.payload;
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const attrs = attributes(payload, 16);
  const info = attrs.has(IFLA_LINKINFO) ? attributes(attrs.get(IFLA_LINKINFO)!) : new Map<number, Buffer>();
  const infoKind = str(info.get(IFLA_INFO_KIND));
  const data = info.has(IFLA_INFO_DATA) ? attributes(info.get(IFLA_INFO_DATA)!) : new Map<number, Buffer>();
  const slaveKind = str(info.get(IFLA_INFO_SLAVE_KIND));
  const slaveData = info.has(IFLA_INFO_SLAVE_DATA) ? attributes(info.get(IFLA_INFO_SLAVE_DATA)!) : undefined;
  const base: LinkBase = {
    index,
    name: str(attrs.get(IFLA_IFNAME)) ?? '',
    mtu: u32(attrs.get(IFLA_MTU)) ?? 0,
    mac: mac(attrs.get(IFLA_ADDRESS)),
    up: (flags & IFF_UP) !== 0,
    operState: operStates[u8(attrs.get(IFLA_OPERSTATE)) ?? 0] ?? 'UNKNOWN',
    flags,
    txQueueLen: u32(attrs.get(IFLA_TXQLEN)) ?? 0,
    alias: str(attrs.get(IFLA_IFALIAS)),
    masterIndex: u32(attrs.get(IFLA_MASTER)) || undefined,
    parentIndex: u32(attrs.get(IFLA_LINK)) || undefined,
    parentNetnsId: attrs.has(IFLA_LINK_NETNSID) ? attrs.get(IFLA_LINK_NETNSID)!.readInt32LE(0) : undefined,
    promisc: (flags & IFF_PROMISC) !== 0,
    allmulti: (flags & IFF_ALLMULTI) !== 0,
    bridgePort: slaveKind === 'bridge' && slaveData ? decodeBridgePort(slaveData) : undefined,
  };
  switch (infoKind) {
    case 'veth':
      return { ...base, kind: 'veth', peerIndex: base.parentIndex };
    case 'bridge':
      return {
        ...base,
        kind: 'bridge',
        vlanFiltering: u8(data.get(IFLA_BR_VLAN_FILTERING)) === 1,
        vlanDefaultPvid: u16(data.get(IFLA_BR_VLAN_DEFAULT_PVID)),
        stp: (u32(data.get(IFLA_BR_STP_STATE)) ?? 0) !== 0,
      };
    case 'macvlan':
    case 'macvtap':
      return {
        ...base,
        kind: infoKind,
        mode: keyOf(macvlanModes, u32(data.get(IFLA_MACVLAN_MODE))),
        bcQueueLen: u32(data.get(IFLA_MACVLAN_BC_QUEUE_LEN)),
      };
    case 'ipvlan':
    case 'ipvtap':
      return {
        ...base,
        kind: infoKind,
        mode: keyOf(ipvlanModes, u16(data.get(IFLA_IPVLAN_MODE))),
        flag: keyOf(ipvlanFlags, u16(data.get(IFLA_IPVLAN_FLAGS))),
      };
    case 'vlan':
      return {
        ...base,
        kind: 'vlan',
        vlanId: u16(data.get(IFLA_VLAN_ID)) ?? 0,
        protocol: data.get(IFLA_VLAN_PROTOCOL)?.readUInt16BE(0) === 0x88a8 ? '802.1ad' : '802.1Q',
      };
    case 'vxlan': {
      const group = data.get(IFLA_VXLAN_GROUP) ?? data.get(IFLA_VXLAN_GROUP6);
      const local = data.get(IFLA_VXLAN_LOCAL) ?? data.get(IFLA_VXLAN_LOCAL6);
      return {
        ...base,
        kind: 'vxlan',
        vni: u32(data.get(IFLA_VXLAN_ID)) ?? 0,
        port: data.get(IFLA_VXLAN_PORT)?.readUInt16BE(0),
        group: group && group.some((byte) => byte !== 0) ? formatAddress(Buffer.from(group)) : undefined,
        local: local && local.some((byte) => byte !== 0) ? formatAddress(Buffer.from(local)) : undefined,
        learning: u8(data.get(IFLA_VXLAN_LEARNING)) === 1,
      };
    }
    case 'vrf':
      return { ...base, kind: 'vrf', table: u32(data.get(IFLA_VRF_TABLE)) ?? 0 };
    case 'bond': {
      const mode = u8(data.get(IFLA_BOND_MODE));
      return {
        ...base,
        kind: 'bond',
        mode: mode === undefined ? undefined : bondModes[mode],
        miimon: u32(data.get(IFLA_BOND_MIIMON)),
      };
    }
    case 'tun':
      return {
        ...base,
        kind: u8(data.get(IFLA_TUN_TYPE)) === 2 ? 'tap' : 'tun',
        multiQueue: u8(data.get(IFLA_TUN_MULTI_QUEUE)) === 1,
        owner: data.has(IFLA_TUN_OWNER) ? data.get(IFLA_TUN_OWNER)!.readInt32LE(0) : undefined,
        group: data.has(IFLA_TUN_GROUP) ? data.get(IFLA_TUN_GROUP)!.readInt32LE(0) : undefined,
      };
    case 'dummy':
    case 'ifb':
      return { ...base, kind: infoKind };
    default:
      return { ...base, kind: infoKind === undefined ? 'device' : 'other', infoKind };
  }
}

function writeKindData(writer: MessageWriter, spec: LinkAdd, operation: string): void {
  switch (spec.kind) {
    case 'veth':
      // The peer is an ifinfomsg followed by its own attributes; the netns fd was opened by the caller.
      return;
    case 'bridge':
      writer.nest(IFLA_INFO_DATA, () => {
        if (spec.forwardDelay !== undefined) writer.u32(IFLA_BR_FORWARD_DELAY, spec.forwardDelay);
        if (spec.ageingTime !== undefined) writer.u32(IFLA_BR_AGEING_TIME, spec.ageingTime);
        if (spec.stp !== undefined) writer.u32(IFLA_BR_STP_STATE, spec.stp ? 1 : 0);
        if (spec.vlanFiltering !== undefined) writer.u8(IFLA_BR_VLAN_FILTERING, spec.vlanFiltering ? 1 : 0);
        if (spec.multicastSnooping !== undefined) writer.u8(IFLA_BR_MCAST_SNOOPING, spec.multicastSnooping ? 1 : 0);
        if (spec.vlanDefaultPvid !== undefined) writer.u16(IFLA_BR_VLAN_DEFAULT_PVID, spec.vlanDefaultPvid);
      });
      return;
    case 'macvlan':
    case 'macvtap': {
      const mode = macvlanModes[spec.mode ?? 'bridge'];
      if (mode === undefined) throw invalidArgument(operation, spec.name, `invalid macvlan mode "${spec.mode}"`);
      writer.nest(IFLA_INFO_DATA, () => {
        writer.u32(IFLA_MACVLAN_MODE, mode);
        if (spec.bcQueueLen !== undefined) writer.u32(IFLA_MACVLAN_BC_QUEUE_LEN, spec.bcQueueLen);
      });
      return;
    }
    case 'ipvlan':
    case 'ipvtap': {
      const mode = ipvlanModes[spec.mode ?? 'l2'];
      const flag = ipvlanFlags[spec.flag ?? 'bridge'];
      if (mode === undefined) throw invalidArgument(operation, spec.name, `invalid ipvlan mode "${spec.mode}"`);
      if (flag === undefined) throw invalidArgument(operation, spec.name, `invalid ipvlan flag "${spec.flag}"`);
      writer.nest(IFLA_INFO_DATA, () => {
        writer.u16(IFLA_IPVLAN_MODE, mode);
        writer.u16(IFLA_IPVLAN_FLAGS, flag);
      });
      return;
    }
    case 'vlan': {
      if (!Number.isInteger(spec.vlanId) || spec.vlanId < 0 || spec.vlanId > 4094) {
        throw invalidArgument(operation, spec.name, `invalid VLAN id ${spec.vlanId}, must be [0, 4094]`);
      }
      writer.nest(IFLA_INFO_DATA, () => {
        writer.u16(IFLA_VLAN_ID, spec.vlanId);
        writer.be16(IFLA_VLAN_PROTOCOL, spec.protocol === '802.1ad' ? 0x88a8 : 0x8100);
      });
      return;
    }
    case 'vxlan': {
      const group = spec.group === undefined ? undefined : parseAddress(spec.group);
      const local = spec.local === undefined ? undefined : parseAddress(spec.local);
      if (spec.group !== undefined && !group) throw invalidArgument(operation, spec.name, `invalid vxlan group "${spec.group}"`);
      if (spec.local !== undefined && !local) throw invalidArgument(operation, spec.name, `invalid vxlan local "${spec.local}"`);
      writer.nest(IFLA_INFO_DATA, () => {
        writer.u32(IFLA_VXLAN_ID, spec.vni);
        if (spec.parentIndex !== undefined) writer.u32(IFLA_VXLAN_LINK, spec.parentIndex);
        if (group) writer.attr(group.family === AF_INET ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, group.bytes);
        if (local) writer.attr(local.family === AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, local.bytes);
        if (spec.ttl !== undefined) writer.u8(IFLA_VXLAN_TTL, spec.ttl);
        if (spec.learning !== undefined) writer.u8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
        writer.be16(IFLA_VXLAN_PORT, spec.port ?? 4789);
      });
      return;
    }
    case 'vrf':
      writer.nest(IFLA_INFO_DATA, () => writer.u32(IFLA_VRF_TABLE, spec.table));
      return;
    case 'bond': {
      const mode = bondModes.indexOf(spec.mode ?? 'balance-rr');
      if (mode < 0) throw invalidArgument(operation, spec.name, `invalid bond mode "${spec.mode}"`);
      writer.nest(IFLA_INFO_DATA, () => {
        writer.u8(IFLA_BOND_MODE, mode);
        if (spec.miimon !== undefined) writer.u32(IFLA_BOND_MIIMON, spec.miimon);
        if (spec.updelay !== undefined) writer.u32(IFLA_BOND_UPDELAY, spec.updelay);
        if (spec.downdelay !== undefined) writer.u32(IFLA_BOND_DOWNDELAY, spec.downdelay);
        if (spec.minLinks !== undefined) writer.u32(IFLA_BOND_MIN_LINKS, spec.minLinks);
      });
      return;
    }
    default:
      return;
  }
}

/**
 * Links: list, read, create, change and delete network interfaces. Reached as `nl.link`.
 */
export class LinkApi {
  readonly #conn: Connection;
  readonly #netnsFd: () => number | undefined;

  /** @internal Made by {@link openNetlink}. */
  constructor(conn: Connection, netnsFd: () => number | undefined) {
    this.#conn = conn;
    this.#netnsFd = netnsFd;
  }

  /** Every link of the namespace. Equivalent to `ip link show`. */
  async list(): Promise<Link[]> {
    return this.listSync();
  }

  /** @internal */
  listSync(): Link[] {
    const context = { operation: 'link.list', target: '' };
    return this.#conn.query(
      context,
      RTM_GETLINK,
      NLM_F_DUMP,
      (writer) => {
        ifinfo(writer, AF_UNSPEC, 0);
        writer.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
      },
      decodeLink,
    );
  }

  /**
   * One link by name, index or alias; a missing one is a {@link LinkNotFoundError}.
   * Equivalent to `ip link show dev eth0`.
   */
  async get(selector: LinkSelector): Promise<Link> {
    return this.getSync(selector);
  }

  /** One link, or undefined when it does not exist. Equivalent to `ip link show dev eth0`. */
  async find(selector: LinkSelector): Promise<Link | undefined> {
    try {
      return this.getSync(selector);
    } catch (error) {
      if (LinkNotFoundError.isInstance(error)) return undefined;
      throw error;
    }
  }

  /** @internal */
  getSync(selector: LinkSelector): Link {
    const context = { operation: 'link.get', target: describeSelector(selector), link: true };
    if ('alias' in selector) {
      const found = this.listSync().find((link) => link.alias === selector.alias);
      if (!found) throw new LinkNotFoundError(context);
      return found;
    }
    if ('name' in selector) checkLinkName('link.get', selector.name);
    const [found] = this.#conn.query(
      context,
      RTM_GETLINK,
      0,
      (writer) => {
        ifinfo(writer, AF_UNSPEC, selectorIndex(selector));
        if ('name' in selector) writer.string(IFLA_IFNAME, selector.name);
        writer.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
      },
      decodeLink,
    );
    if (!found) throw new LinkNotFoundError(context);
    return found;
  }

  /** @internal The index of a selector, asking the kernel only when it is not an index. */
  indexOf(selector: LinkSelector): number {
    return 'index' in selector ? selector.index : this.getSync(selector).index;
  }

  /**
   * Creates a link of any kind; the veth peer and the link itself may be created directly in
   * another namespace. Equivalent to
   * `ip link add link eth0 mv0 type macvlan mode bridge` (and the other `ip link add ... type` forms).
   */
  async add(spec: LinkAdd): Promise<void> {
    const operation = 'link.add';
    checkLinkName(operation, spec.name);
    if (spec.kind === 'tun' || spec.kind === 'tap') return this.#addTunTap(spec);
    const context = { operation, target: spec.name };
    const linkMac = spec.mac === undefined ? undefined : parseMac(operation, spec.name, spec.mac);
    const send = (netnsFd: number | undefined, peerNetnsFd: number | undefined): void => {
      this.#conn.request(context, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, (writer) => {
        ifinfo(writer, AF_UNSPEC, 0, spec.up ? IFF_UP : 0, spec.up ? IFF_UP : 0);
        writer.string(IFLA_IFNAME, spec.name);
        if (spec.mtu !== undefined) writer.u32(IFLA_MTU, spec.mtu);
        if (linkMac) writer.attr(IFLA_ADDRESS, linkMac);
        if (spec.txQueueLen !== undefined) writer.u32(IFLA_TXQLEN, spec.txQueueLen);
        if (spec.masterIndex !== undefined) writer.u32(IFLA_MASTER, spec.masterIndex);
        if (netnsFd !== undefined) writer.u32(IFLA_NET_NS_FD, netnsFd);
        if ('parentIndex' in spec && spec.parentIndex !== undefined && spec.kind !== 'vxlan') {
          writer.u32(IFLA_LINK, spec.parentIndex);
        }
        writer.nest(IFLA_LINKINFO, () => {
          writer.string(IFLA_INFO_KIND, spec.kind);
          if (spec.kind === 'veth') {
            const peer = spec.peer;
            writer.nest(IFLA_INFO_DATA, () => {
              writer.nest(VETH_INFO_PEER, () => {
                ifinfo(writer, AF_UNSPEC, 0);
                writer.string(IFLA_IFNAME, peer.name);
                if (peer.mtu !== undefined) writer.u32(IFLA_MTU, peer.mtu);
                if (peer.mac !== undefined) writer.attr(IFLA_ADDRESS, parseMac(operation, peer.name, peer.mac));
                if (peer.txQueueLen !== undefined) writer.u32(IFLA_TXQLEN, peer.txQueueLen);
                if (peerNetnsFd !== undefined) writer.u32(IFLA_NET_NS_FD, peerNetnsFd);
              });
            });
          } else {
            writeKindData(writer, spec, operation);
          }
        });
      });
    };
    if (spec.kind === 'veth') checkLinkName(operation, spec.peer.name);
    if (spec.alias !== undefined) {
      // The kernel ignores IFLA_IFALIAS on creation: set it afterwards, here, before any move.
      const { alias, netns, ...rest } = spec;
      await this.add(rest as LinkAdd);
      this.#set(operation, { name: spec.name }, { alias }, {});
      if (netns !== undefined) withNetnsFd(netns, operation, (fd) => this.#set(operation, { name: spec.name }, { netnsFd: fd }, {}));
      return;
    }
    const peerNetns = spec.kind === 'veth' ? spec.peer.netns : undefined;
    const withPeer = (netnsFd: number | undefined): void => {
      if (peerNetns === undefined) return send(netnsFd, undefined);
      withNetnsFd(peerNetns, operation, (peerFd) => send(netnsFd, peerFd));
    };
    if (spec.netns === undefined) withPeer(undefined);
    else withNetnsFd(spec.netns, operation, (fd) => withPeer(fd));
  }

  #addTunTap(spec: Extract<LinkAdd, { kind: 'tun' | 'tap' }>): void {
    const IFF_TUN = 0x1;
    const IFF_TAP = 0x2;
    const IFF_NO_PI = 0x1000;
    const IFF_MULTI_QUEUE = 0x100;
    const flags = (spec.kind === 'tun' ? IFF_TUN : IFF_TAP) | IFF_NO_PI | (spec.multiQueue ? IFF_MULTI_QUEUE : 0);
    try {
      createTunTap(this.#netnsFd(), {
        name: spec.name,
        flags,
        ...(spec.owner === undefined ? {} : { owner: spec.owner }),
        ...(spec.group === undefined ? {} : { group: spec.group }),
      });
    } catch (error) {
      const errno = (error as { errno?: number }).errno ?? 0;
      throw new NetlinkError({ operation: 'link.add', target: spec.name, errno, cause: error, ...(errno ? {} : { tag: 'Unknown', detail: String(error) }) });
    }
    const rest = {
      ...(spec.mtu === undefined ? {} : { mtu: spec.mtu }),
      ...(spec.mac === undefined ? {} : { mac: spec.mac }),
      ...(spec.txQueueLen === undefined ? {} : { txQueueLen: spec.txQueueLen }),
      ...(spec.masterIndex === undefined ? {} : { masterIndex: spec.masterIndex }),
    };
    if (Object.keys(rest).length > 0 || spec.up) this.#set('link.add', { name: spec.name }, rest, spec.up ? { up: true } : {});
    if (spec.netns !== undefined) {
      const netns = spec.netns;
      withNetnsFd(netns, 'link.add', (fd) => this.#set('link.add', { name: spec.name }, { netnsFd: fd }, {}));
    }
  }

  /** Deletes a link (a veth's peer goes with it). Equivalent to `ip link del dev veth0`. */
  async del(selector: LinkSelector): Promise<void> {
    const index = 'alias' in selector ? this.indexOf(selector) : selectorIndex(selector);
    if ('name' in selector) checkLinkName('link.del', selector.name);
    const context = { operation: 'link.del', target: describeSelector(selector), link: true };
    this.#conn.request(context, RTM_DELLINK, 0, (writer) => {
      ifinfo(writer, AF_UNSPEC, index);
      if ('name' in selector) writer.string(IFLA_IFNAME, selector.name);
    });
  }

  /** Brings a link up. Equivalent to `ip link set dev eth0 up`. */
  async setUp(selector: LinkSelector): Promise<void> {
    this.#set('link.setUp', selector, {}, { up: true });
  }

  /** Brings a link down. Equivalent to `ip link set dev eth0 down`. */
  async setDown(selector: LinkSelector): Promise<void> {
    this.#set('link.setDown', selector, {}, { up: false });
  }

  /** Sets the MTU. Equivalent to `ip link set dev eth0 mtu 1400`. */
  async setMtu(selector: LinkSelector, mtu: number): Promise<void> {
    if (!Number.isInteger(mtu) || mtu < 0) throw invalidArgument('link.setMtu', describeSelector(selector), `invalid MTU ${mtu}`);
    this.#set('link.setMtu', selector, { mtu }, {});
  }

  /** Sets the hardware address. Equivalent to `ip link set dev eth0 address aa:bb:cc:dd:ee:ff`. */
  async setMac(selector: LinkSelector, address: string): Promise<void> {
    this.#set('link.setMac', selector, { mac: address }, {});
  }

  /** Renames a link (it must be down). Equivalent to `ip link set dev eth0 name eth1`. */
  async setName(selector: LinkSelector, name: string): Promise<void> {
    checkLinkName('link.setName', name);
    const index = this.indexOf(selector);
    this.#set('link.setName', { index }, { name }, {});
  }

  /** Sets the alias. Equivalent to `ip link set dev eth0 alias NAME`. */
  async setAlias(selector: LinkSelector, alias: string): Promise<void> {
    this.#set('link.setAlias', selector, { alias }, {});
  }

  /** Enslaves a link to a bridge, bond or vrf. Equivalent to `ip link set dev veth0 master br0`. */
  async setMaster(selector: LinkSelector, master: LinkSelector): Promise<void> {
    const masterIndex = this.indexOf(master);
    this.#set('link.setMaster', selector, { masterIndex }, {});
  }

  /** Releases a link from its master. Equivalent to `ip link set dev veth0 nomaster`. */
  async setNoMaster(selector: LinkSelector): Promise<void> {
    this.#set('link.setNoMaster', selector, { masterIndex: 0 }, {});
  }

  /**
   * Moves a link into another namespace (by path or descriptor).
   * Equivalent to `ip link set dev veth0 netns c1`.
   */
  async setNetns(selector: LinkSelector, netns: NetnsRef): Promise<void> {
    withNetnsFd(netns, 'link.setNetns', (fd) => this.#set('link.setNetns', selector, { netnsFd: fd }, {}));
  }

  /** Sets the transmit queue length. Equivalent to `ip link set dev eth0 txqueuelen 1000`. */
  async setTxQueueLen(selector: LinkSelector, length: number): Promise<void> {
    this.#set('link.setTxQueueLen', selector, { txQueueLen: length }, {});
  }

  /** Turns promiscuous mode on or off. Equivalent to `ip link set dev eth0 promisc on`. */
  async setPromisc(selector: LinkSelector, on: boolean): Promise<void> {
    this.#set('link.setPromisc', selector, {}, { promisc: on });
  }

  /** Turns all-multicast mode on or off. Equivalent to `ip link set dev eth0 allmulticast on`. */
  async setAllmulti(selector: LinkSelector, on: boolean): Promise<void> {
    this.#set('link.setAllmulti', selector, {}, { allmulti: on });
  }

  /**
   * Changes bridge port settings of a bridge's port.
   * Equivalent to `ip link set dev veth0 type bridge_slave hairpin on isolated on learning off`.
   */
  async setBridgePort(selector: LinkSelector, options: BridgePortOptions): Promise<void> {
    const context = { operation: 'link.setBridgePort', target: describeSelector(selector), link: true };
    const index = 'alias' in selector ? this.indexOf(selector) : selectorIndex(selector);
    this.#conn.request(context, RTM_NEWLINK, 0, (writer) => {
      ifinfo(writer, AF_UNSPEC, index);
      if ('name' in selector) writer.string(IFLA_IFNAME, selector.name);
      writer.nest(IFLA_LINKINFO, () => {
        writer.string(IFLA_INFO_SLAVE_KIND, 'bridge');
        writer.nest(IFLA_INFO_SLAVE_DATA, () => {
          if (options.hairpin !== undefined) writer.u8(IFLA_BRPORT_MODE, options.hairpin ? 1 : 0);
          if (options.learning !== undefined) writer.u8(IFLA_BRPORT_LEARNING, options.learning ? 1 : 0);
          if (options.isolated !== undefined) writer.u8(IFLA_BRPORT_ISOLATED, options.isolated ? 1 : 0);
        });
      });
    });
  }

  /**
   * Adds a VLAN to a bridge port (or to the bridge with `self`).
   * Equivalent to `bridge vlan add dev veth0 vid 10 pvid untagged`.
   */
  async bridgeVlanAdd(selector: LinkSelector, options: BridgeVlanOptions): Promise<void> {
    this.#bridgeVlan('link.bridgeVlanAdd', RTM_SETLINK, selector, options);
  }

  /** Removes a VLAN from a bridge port. Equivalent to `bridge vlan del dev veth0 vid 10`. */
  async bridgeVlanDel(selector: LinkSelector, options: BridgeVlanOptions): Promise<void> {
    this.#bridgeVlan('link.bridgeVlanDel', RTM_DELLINK, selector, options);
  }

  #bridgeVlan(operation: string, type: number, selector: LinkSelector, options: BridgeVlanOptions): void {
    const target = describeSelector(selector);
    if (!Number.isInteger(options.vid) || options.vid < 1 || options.vid > 4094) {
      throw invalidArgument(operation, target, `invalid VLAN id ${options.vid}, must be [1, 4094]`);
    }
    const index = this.indexOf(selector);
    const flags = (options.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (options.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
    const vlanInfo = Buffer.alloc(4);
    vlanInfo.writeUInt16LE(flags, 0);
    vlanInfo.writeUInt16LE(options.vid, 2);
    this.#conn.request({ operation, target, link: true }, type, 0, (writer) => {
      ifinfo(writer, AF_BRIDGE, index);
      writer.nest(IFLA_AF_SPEC, () => {
        writer.u16(IFLA_BRIDGE_FLAGS, options.self ? BRIDGE_FLAGS_SELF : BRIDGE_FLAGS_MASTER);
        writer.attr(IFLA_BRIDGE_VLAN_INFO, vlanInfo);
      });
    });
  }

  /**
   * The VLANs of every bridge port (and of bridges themselves), by link index.
   * Equivalent to `bridge vlan show`.
   */
  async bridgeVlanList(): Promise<Map<number, { vid: number; pvid: boolean; untagged: boolean }[]>> {
    const RTEXT_FILTER_BRVLAN = 1 << 1;
    const result = new Map<number, { vid: number; pvid: boolean; untagged: boolean }[]>();
    const context: OperationContext = { operation: 'link.bridgeVlanList', target: '' };
    this.#conn.query(
      context,
      RTM_GETLINK,
      NLM_F_DUMP,
      (writer) => {
        ifinfo(writer, AF_BRIDGE, 0);
        writer.u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
      },
      (message) => {
        if (message.type !== RTM_NEWLINK) return undefined;
        const index = message.payload.readInt32LE(4);
        const spec = attributes(message.payload, 16).get(IFLA_AF_SPEC);
        if (!spec) return undefined;
        const vlans = attributeList(spec)
          .filter(([type]) => type === IFLA_BRIDGE_VLAN_INFO)
          .map(([, value]) => {
            const flags = value.readUInt16LE(0);
            return { vid: value.readUInt16LE(2), pvid: (flags & BRIDGE_VLAN_INFO_PVID) !== 0, untagged: (flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0 };
          });
        result.set(index, vlans);
        return undefined;
      },
    );
    return result;
  }

  /**
   * The index of a veth's peer (in the peer's namespace). Equivalent to
   * `ip -d link show dev veth0` (the `@ifN` suffix) or `ethtool -S veth0 | grep peer_ifindex`.
   */
  async vethPeerIndex(selector: LinkSelector): Promise<number> {
    const link = this.getSync(selector);
    if (link.kind !== 'veth' || link.peerIndex === undefined) {
      throw invalidArgument('link.vethPeerIndex', describeSelector(selector), `link "${link.name}" is not a veth`);
    }
    return link.peerIndex;
  }

  #set(
    operation: string,
    selector: LinkSelector,
    attrs: { mtu?: number; mac?: string; name?: string; alias?: string; masterIndex?: number; netnsFd?: number; txQueueLen?: number },
    flags: { up?: boolean; promisc?: boolean; allmulti?: boolean },
  ): void {
    const target = describeSelector(selector);
    if ('name' in selector) checkLinkName(operation, selector.name);
    const index = 'alias' in selector ? this.indexOf(selector) : selectorIndex(selector);
    const linkMac = attrs.mac === undefined ? undefined : parseMac(operation, target, attrs.mac);
    let value = 0;
    let change = 0;
    if (flags.up !== undefined) {
      change |= IFF_UP;
      if (flags.up) value |= IFF_UP;
    }
    if (flags.promisc !== undefined) {
      change |= IFF_PROMISC;
      if (flags.promisc) value |= IFF_PROMISC;
    }
    if (flags.allmulti !== undefined) {
      change |= IFF_ALLMULTI;
      if (flags.allmulti) value |= IFF_ALLMULTI;
    }
    // RTM_NEWLINK without NLM_F_CREATE changes an existing link, as `ip link set` does.
    this.#conn.request({ operation, target, link: true }, RTM_NEWLINK, 0, (writer) => {
      ifinfo(writer, AF_UNSPEC, index, value, change);
      if ('name' in selector) writer.string(IFLA_IFNAME, selector.name);
      else if (attrs.name !== undefined) writer.string(IFLA_IFNAME, attrs.name);
      if (attrs.mtu !== undefined) writer.u32(IFLA_MTU, attrs.mtu);
      if (linkMac) writer.attr(IFLA_ADDRESS, linkMac);
      if (attrs.alias !== undefined) writer.string(IFLA_IFALIAS, attrs.alias);
      if (attrs.masterIndex !== undefined) writer.u32(IFLA_MASTER, attrs.masterIndex);
      if (attrs.netnsFd !== undefined) writer.u32(IFLA_NET_NS_FD, attrs.netnsFd);
      if (attrs.txQueueLen !== undefined) writer.u32(IFLA_TXQLEN, attrs.txQueueLen);
    });
  }
}
