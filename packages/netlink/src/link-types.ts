// SPDX-License-Identifier: Apache-2.0
import type { NetnsRef } from './types.ts';

/** Macvlan and macvtap modes, spelled as the CNI macvlan config spells them. */
export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';

/** Ipvlan modes, spelled as the CNI ipvlan config spells them. */
export type IpvlanMode = 'l2' | 'l3' | 'l3s';

/** Ipvlan flags (the isolation between slaves of one parent). */
export type IpvlanFlag = 'bridge' | 'private' | 'vepa';

/** Bonding modes, spelled as the kernel and `ip link add type bond mode` spell them. */
export type BondMode =
  | 'balance-rr'
  | 'active-backup'
  | 'balance-xor'
  | 'broadcast'
  | '802.3ad'
  | 'balance-tlb'
  | 'balance-alb';

/** What any link can be given when it is created. */
export interface LinkAddBase {
  /** The interface name, at most 15 bytes. */
  readonly name: string;
  readonly mtu?: number;
  /** The hardware address, `aa:bb:cc:dd:ee:ff`. */
  readonly mac?: string;
  readonly txQueueLen?: number;
  readonly alias?: string;
  /** Enslave it to this link at creation (a bridge, a bond, a vrf). */
  readonly masterIndex?: number;
  /** Create it directly inside this namespace (IFLA_NET_NS_FD). */
  readonly netns?: NetnsRef;
  /** Bring it up at creation. */
  readonly up?: boolean;
}

/** The other end of a new veth pair. */
export interface VethPeer {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly txQueueLen?: number;
  /** Create the peer directly inside this namespace, as the CNI plugins do with the container end. */
  readonly netns?: NetnsRef;
}

/** A veth pair to create. */
export interface VethAdd extends LinkAddBase {
  readonly kind: 'veth';
  readonly peer: VethPeer;
}

/** A bridge to create, with the options the CNI bridge plugin sets. */
export interface BridgeAdd extends LinkAddBase {
  readonly kind: 'bridge';
  readonly vlanFiltering?: boolean;
  readonly vlanDefaultPvid?: number;
  readonly stp?: boolean;
  /** In centiseconds, as the kernel takes it. */
  readonly forwardDelay?: number;
  /** In centiseconds, as the kernel takes it. */
  readonly ageingTime?: number;
  readonly multicastSnooping?: boolean;
}

/** A macvlan or macvtap on a parent link. */
export interface MacvlanAdd extends LinkAddBase {
  readonly kind: 'macvlan' | 'macvtap';
  readonly parentIndex: number;
  /** Default `bridge`, as the CNI macvlan plugin's default. */
  readonly mode?: MacvlanMode;
  /** The broadcast queue length (IFLA_MACVLAN_BC_QUEUE_LEN). */
  readonly bcQueueLen?: number;
}

/** An ipvlan or ipvtap on a parent link. */
export interface IpvlanAdd extends LinkAddBase {
  readonly kind: 'ipvlan' | 'ipvtap';
  readonly parentIndex: number;
  /** Default `l2`. */
  readonly mode?: IpvlanMode;
  /** Default `bridge`. */
  readonly flag?: IpvlanFlag;
}

/** An 802.1Q or 802.1ad VLAN on a parent link. */
export interface VlanAdd extends LinkAddBase {
  readonly kind: 'vlan';
  readonly parentIndex: number;
  readonly vlanId: number;
  /** Default `802.1Q`. */
  readonly protocol?: '802.1Q' | '802.1ad';
}

/** A VXLAN tunnel endpoint. */
export interface VxlanAdd extends LinkAddBase {
  readonly kind: 'vxlan';
  readonly vni: number;
  /** The underlay link. */
  readonly parentIndex?: number;
  /** The multicast group, or the single remote. */
  readonly group?: string;
  readonly local?: string;
  /** The UDP destination port; default 4789 (the IANA port, not the kernel's legacy 8472). */
  readonly port?: number;
  readonly learning?: boolean;
  readonly ttl?: number;
}

/** A VRF device bound to a routing table. */
export interface VrfAdd extends LinkAddBase {
  readonly kind: 'vrf';
  readonly table: number;
}

/** A bond device. */
export interface BondAdd extends LinkAddBase {
  readonly kind: 'bond';
  /** Default `balance-rr`, the kernel's default. */
  readonly mode?: BondMode;
  /** MII link monitoring interval in milliseconds. */
  readonly miimon?: number;
  readonly updelay?: number;
  readonly downdelay?: number;
  readonly minLinks?: number;
}

/** A link kind without options: dummy or ifb. */
export interface PlainAdd extends LinkAddBase {
  readonly kind: 'dummy' | 'ifb';
}

/** A persistent tun or tap device (created through /dev/net/tun, as `ip tuntap add` does). */
export interface TunTapAdd extends LinkAddBase {
  readonly kind: 'tun' | 'tap';
  readonly multiQueue?: boolean;
  /** The owning user id. */
  readonly owner?: number;
  /** The owning group id. */
  readonly group?: number;
}

/** A link to create: one of the kinds, discriminated on `kind`. */
export type LinkAdd =
  | VethAdd
  | BridgeAdd
  | MacvlanAdd
  | IpvlanAdd
  | VlanAdd
  | VxlanAdd
  | VrfAdd
  | BondAdd
  | PlainAdd
  | TunTapAdd;

/** The state of a port of a bridge (IFLA_BRPORT_*). */
export interface BridgePortState {
  readonly hairpin: boolean;
  readonly isolated: boolean;
  readonly learning: boolean;
}

/** What every link reports (vishvananda's LinkAttrs). */
export interface LinkBase {
  readonly index: number;
  readonly name: string;
  readonly mtu: number;
  /** The hardware address, or undefined for links without one. */
  readonly mac: string | undefined;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** The kernel's operational state: `UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN`... */
  readonly operState: string;
  readonly flags: number;
  readonly txQueueLen: number;
  readonly alias: string | undefined;
  /** The bridge, bond or vrf it is enslaved to. */
  readonly masterIndex: number | undefined;
  /** IFLA_LINK: the parent of a macvlan/vlan, the peer of a veth. */
  readonly parentIndex: number | undefined;
  /** The namespace id of the parent (or peer) when it lives in another namespace. */
  readonly parentNetnsId: number | undefined;
  readonly promisc: boolean;
  readonly allmulti: boolean;
  /** The bridge port state when enslaved to a bridge. */
  readonly bridgePort: BridgePortState | undefined;
}

/** A veth; `peerIndex` is the other end's index, in `parentNetnsId`'s namespace when set. */
export interface VethLink extends LinkBase {
  readonly kind: 'veth';
  readonly peerIndex: number | undefined;
}

/** A bridge, with the options read back from IFLA_INFO_DATA. */
export interface BridgeLink extends LinkBase {
  readonly kind: 'bridge';
  readonly vlanFiltering: boolean;
  readonly vlanDefaultPvid: number | undefined;
  readonly stp: boolean;
}

/** A macvlan or macvtap; `parentIndex` is its parent. */
export interface MacvlanLink extends LinkBase {
  readonly kind: 'macvlan' | 'macvtap';
  readonly mode: MacvlanMode | undefined;
  readonly bcQueueLen: number | undefined;
}

/** An ipvlan or ipvtap; `parentIndex` is its parent. */
export interface IpvlanLink extends LinkBase {
  readonly kind: 'ipvlan' | 'ipvtap';
  readonly mode: IpvlanMode | undefined;
  readonly flag: IpvlanFlag | undefined;
}

/** A VLAN; `parentIndex` is its parent. */
export interface VlanLink extends LinkBase {
  readonly kind: 'vlan';
  readonly vlanId: number;
  readonly protocol: '802.1Q' | '802.1ad';
}

/** A VXLAN tunnel endpoint. */
export interface VxlanLink extends LinkBase {
  readonly kind: 'vxlan';
  readonly vni: number;
  readonly port: number | undefined;
  readonly group: string | undefined;
  readonly local: string | undefined;
  readonly learning: boolean;
}

/** A VRF device and its routing table. */
export interface VrfLink extends LinkBase {
  readonly kind: 'vrf';
  readonly table: number;
}

/** A bond device. */
export interface BondLink extends LinkBase {
  readonly kind: 'bond';
  readonly mode: BondMode | undefined;
  readonly miimon: number | undefined;
}

/** A tun or tap device (the kernel reports both as kind `tun`). */
export interface TunTapLink extends LinkBase {
  readonly kind: 'tun' | 'tap';
  readonly multiQueue: boolean;
  readonly owner: number | undefined;
  readonly group: number | undefined;
}

/** A dummy or ifb device. */
export interface PlainLink extends LinkBase {
  readonly kind: 'dummy' | 'ifb';
}

/**
 * A link of a kind without `IFLA_INFO_KIND` (a physical device, loopback: `device`) or of a kind
 * this package does not decode (`other`, with the kernel's name in `infoKind`).
 */
export interface DeviceLink extends LinkBase {
  readonly kind: 'device' | 'other';
  readonly infoKind: string | undefined;
}

/** A link as read from the kernel, discriminated on `kind`. */
export type Link =
  | VethLink
  | BridgeLink
  | MacvlanLink
  | IpvlanLink
  | VlanLink
  | VxlanLink
  | VrfLink
  | BondLink
  | TunTapLink
  | PlainLink
  | DeviceLink;

/** Bridge port settings; absent keys are left as they are. */
export interface BridgePortOptions {
  readonly hairpin?: boolean;
  readonly isolated?: boolean;
  readonly learning?: boolean;
}

/** A VLAN on a bridge port (or on the bridge itself with `self`). */
export interface BridgeVlanOptions {
  readonly vid: number;
  /** Ingress untagged traffic is assigned to this VLAN. */
  readonly pvid?: boolean;
  /** Egress traffic leaves untagged. */
  readonly untagged?: boolean;
  /** Configure the bridge device itself rather than the port (`bridge vlan add ... self`). */
  readonly self?: boolean;
}
