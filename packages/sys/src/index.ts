// SPDX-License-Identifier: Apache-2.0
export { SysError } from './errors.ts';
export type { SysErrorTag, SysErrorOptions } from './errors.ts';
export { errnoMessage, errnoName, tagOfErrno } from './errno.ts';
export type { ErrnoTag } from './errno.ts';

export {
  setns,
  unshare,
  mount,
  umount,
  flock,
  tryFlock,
  flockAsync,
  socket,
  setsockopt,
  getsockopt,
  getsockoptInt,
  bind,
  getsockname,
  close,
  sendTo,
  recvFrom,
  poll,
  pollAsync,
  createSocket,
  htons,
} from './syscalls.ts';
export type { ReceivedDatagram, PollRequest, CreateSocketOptions } from './syscalls.ts';

export { encodeSocketAddress, decodeSocketAddress } from './sockaddr.ts';
export type { SocketAddress, Inet4SocketAddress, Inet6SocketAddress, PacketSocketAddress } from './sockaddr.ts';

export { randomBytes, randomHex } from './random.ts';

export { loadFfi } from './internal/ffi.ts';
export type { FfiModule } from './internal/ffi.ts';

export {
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWUTS,
  CLONE_NEWIPC,
  CLONE_NEWUSER,
  CLONE_NEWPID,
  MS_RDONLY,
  MS_NOSUID,
  MS_NODEV,
  MS_NOEXEC,
  MS_REMOUNT,
  MS_BIND,
  MS_MOVE,
  MS_REC,
  MS_UNBINDABLE,
  MS_PRIVATE,
  MS_SLAVE,
  MS_SHARED,
  MNT_FORCE,
  MNT_DETACH,
  MNT_EXPIRE,
  UMOUNT_NOFOLLOW,
  LOCK_SH,
  LOCK_EX,
  LOCK_NB,
  LOCK_UN,
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_PACKET,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  IPPROTO_IP,
  IPPROTO_UDP,
  IPPROTO_RAW,
  ETH_P_ALL,
  ETH_P_IP,
  ETH_P_ARP,
  ETH_P_IPV6,
  SOL_SOCKET,
  SOL_IP,
  SOL_IPV6,
  SOL_PACKET,
  SO_REUSEADDR,
  SO_BROADCAST,
  SO_SNDBUF,
  SO_RCVBUF,
  SO_REUSEPORT,
  SO_BINDTODEVICE,
  SO_ATTACH_FILTER,
  SO_MARK,
  IP_PKTINFO,
  IPV6_V6ONLY,
  MSG_DONTWAIT,
  MSG_TRUNC,
  POLLIN,
  POLLOUT,
  POLLERR,
  POLLHUP,
} from './constants.ts';
