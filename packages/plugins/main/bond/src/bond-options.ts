// SPDX-License-Identifier: Apache-2.0
import { withNetns } from '@cni/netns';
import { close, poll, recvFrom, sendTo, socket } from '@cni/sys';

// @cni/netlink creates bonds with mode, miimon and delays but has no IFLA_BOND_FAIL_OVER_MAC,
// XMIT_HASH_POLICY, ALL_SLAVES_ACTIVE or TLB_DYNAMIC_LB: this one RTM_NEWLINK is written here, on a
// netlink socket made inside the container, until it does.

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const RTM_NEWLINK = 16;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const POLLIN = 1;
const IFLA_BOND_FAIL_OVER_MAC = 13;
const IFLA_BOND_XMIT_HASH_POLICY = 14;
const IFLA_BOND_ALL_SLAVES_ACTIVE = 17;
const IFLA_BOND_TLB_DYNAMIC_LB = 29;

/** The transmit hash policies, by the kernel's number. */
export const XMIT_HASH_POLICIES = ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'] as const;

/** Bond options @cni/netlink does not set; absent ones are left as the kernel has them. */
export interface BondOptions {
  /** 0 none, 1 active, 2 follow; taken only while the bond has no slaves. */
  failOverMac?: number;
  xmitHashPolicy?: (typeof XMIT_HASH_POLICIES)[number];
  allSlavesActive?: number;
  /** balance-tlb and balance-alb only. */
  tlbDynamicLb?: number;
}

const align = (length: number) => (length + 3) & ~3;

function attribute(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

/**
 * Set the bond's options in one request, before it has slaves. Equivalent to
 * `ip link set dev bond0 type bond fail_over_mac 1 xmit_hash_policy layer3+4 all_slaves_active 1 tlb_dynamic_lb 0`.
 */
export function setBondOptions(netns: string, index: number, options: BondOptions): void {
  const attributes: Buffer[] = [];
  const u8 = (type: number, value: number | undefined) => value !== undefined && attributes.push(attribute(type, Buffer.from([value])));
  u8(IFLA_BOND_FAIL_OVER_MAC, options.failOverMac);
  u8(IFLA_BOND_XMIT_HASH_POLICY, options.xmitHashPolicy === undefined ? undefined : XMIT_HASH_POLICIES.indexOf(options.xmitHashPolicy));
  u8(IFLA_BOND_ALL_SLAVES_ACTIVE, options.allSlavesActive);
  u8(IFLA_BOND_TLB_DYNAMIC_LB, options.tlbDynamicLb);
  if (attributes.length === 0) return;
  const data = attribute(IFLA_INFO_DATA, Buffer.concat(attributes));
  const linkinfo = attribute(IFLA_LINKINFO, Buffer.concat([attribute(IFLA_INFO_KIND, Buffer.from('bond\0')), data]));
  const message = Buffer.alloc(16 + 16 + linkinfo.length);
  message.writeUInt32LE(message.length, 0);
  message.writeUInt16LE(RTM_NEWLINK, 4);
  message.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  message.writeUInt32LE(1, 8);
  message.writeInt32LE(index, 16 + 4);
  linkinfo.copy(message, 32);
  const fd = withNetns(netns, () => socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  try {
    sendTo(fd, message);
    const reply = Buffer.alloc(4096);
    for (;;) {
      if ((poll([{ fd, events: POLLIN }], 5000)[0] ?? 0) === 0) throw new Error('no answer from the kernel');
      const { data: received } = recvFrom(fd, reply);
      if (received.length < 20 || received.readUInt16LE(4) !== NLMSG_ERROR) continue;
      const errno = -received.readInt32LE(16);
      if (errno !== 0) throw new Error(`errno ${errno}`);
      return;
    }
  } finally {
    close(fd);
  }
}
