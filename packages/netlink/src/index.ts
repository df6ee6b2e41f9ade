// SPDX-License-Identifier: Apache-2.0
export { openNetlink, openNetlinkSync, Netlink } from './netlink.ts';
export type { NetlinkOptions } from './netlink.ts';

export { NetlinkError, LinkNotFoundError, NetnsGoneError, tagOfErrno } from './errors.ts';
export type { NetlinkErrorTag, NetlinkErrorOptions } from './errors.ts';

export type { LinkSelector, NetnsRef } from './types.ts';

export { LinkApi } from './link.ts';
export type {
  Link,
  LinkBase,
  LinkAdd,
  LinkAddBase,
  VethAdd,
  VethPeer,
  BridgeAdd,
  MacvlanAdd,
  IpvlanAdd,
  VlanAdd,
  VxlanAdd,
  VrfAdd,
  BondAdd,
  PlainAdd,
  TunTapAdd,
  VethLink,
  BridgeLink,
  MacvlanLink,
  IpvlanLink,
  VlanLink,
  VxlanLink,
  VrfLink,
  BondLink,
  TunTapLink,
  PlainLink,
  DeviceLink,
  MacvlanMode,
  IpvlanMode,
  IpvlanFlag,
  BondMode,
  BridgePortState,
  BridgePortOptions,
  BridgeVlanOptions,
} from './link-types.ts';

export { AddressApi } from './address.ts';
export type { Address, AddressOptions, AddressFilter, AddressScope } from './address.ts';

export { RouteApi } from './route.ts';
export type { Route, RouteSpec, RouteFilter, RouteType, Nexthop, NexthopSpec } from './route.ts';

export { RuleApi } from './rule.ts';
export type { Rule, RuleSpec } from './rule.ts';

export { NeighbourApi } from './neighbour.ts';
export type { Neighbour, NeighbourSpec, NeighbourState } from './neighbour.ts';

export { QdiscApi, FilterApi, parseHandle, formatHandle } from './tc.ts';
export type { Qdisc, QdiscSpec, TbfQdisc, HtbQdisc, IngressQdisc, Filter, U32MirredFilter } from './tc.ts';

export { VfApi, decodeVfInfoList } from './vf.ts';
export type { VfInfo, VfList, VfSettings, VfVlan, VfVlanProto, VfLinkState } from './vf.ts';
export { ClassApi } from './tc-class.ts';
export type { HtbClassSpec, TcClass } from './tc-class.ts';
