// SPDX-License-Identifier: Apache-2.0
// Linux values (x86_64 and aarch64 agree on all of these); named as in <sched.h>, <sys/mount.h>,
// <sys/file.h> and <sys/socket.h> so that man pages apply unchanged.

/** `unshare`/`setns` flag: the network namespace. */
export const CLONE_NEWNET = 0x4000_0000;
/** `unshare`/`setns` flag: the mount namespace. */
export const CLONE_NEWNS = 0x0002_0000;
/** `unshare`/`setns` flag: the UTS (hostname) namespace. */
export const CLONE_NEWUTS = 0x0400_0000;
/** `unshare`/`setns` flag: the IPC namespace. */
export const CLONE_NEWIPC = 0x0800_0000;
/** `unshare`/`setns` flag: the user namespace. */
export const CLONE_NEWUSER = 0x1000_0000;
/** `unshare`/`setns` flag: the PID namespace. */
export const CLONE_NEWPID = 0x2000_0000;

/** `mount` flag: read-only. */
export const MS_RDONLY = 0x1;
/** `mount` flag: ignore set-user-ID bits. */
export const MS_NOSUID = 0x2;
/** `mount` flag: no device files. */
export const MS_NODEV = 0x4;
/** `mount` flag: no execution. */
export const MS_NOEXEC = 0x8;
/** `mount` flag: change the flags of an existing mount. */
export const MS_REMOUNT = 0x20;
/** `mount` flag: bind mount, as `mount --bind`. */
export const MS_BIND = 0x1000;
/** `mount` flag: move a mount. */
export const MS_MOVE = 0x2000;
/** `mount` flag: apply to the whole subtree (`--rbind`, `--make-rshared`). */
export const MS_REC = 0x4000;
/** `mount` flag: unbindable propagation. */
export const MS_UNBINDABLE = 0x2_0000;
/** `mount` flag: private propagation. */
export const MS_PRIVATE = 0x4_0000;
/** `mount` flag: slave propagation. */
export const MS_SLAVE = 0x8_0000;
/** `mount` flag: shared propagation, as `mount --make-shared`. */
export const MS_SHARED = 0x10_0000;

/** `umount2` flag: force. */
export const MNT_FORCE = 0x1;
/** `umount2` flag: lazy unmount, as `umount -l`: detach now, clean up when no longer busy. */
export const MNT_DETACH = 0x2;
/** `umount2` flag: mark for expiry. */
export const MNT_EXPIRE = 0x4;
/** `umount2` flag: do not follow a symbolic link at the target. */
export const UMOUNT_NOFOLLOW = 0x8;

/** `flock` operation: shared lock. */
export const LOCK_SH = 1;
/** `flock` operation: exclusive lock. */
export const LOCK_EX = 2;
/** `flock` modifier: fail with `WouldBlock` instead of waiting. */
export const LOCK_NB = 4;
/** `flock` operation: unlock. */
export const LOCK_UN = 8;

/** Address family: IPv4. */
export const AF_INET = 2;
/** Address family: IPv6. */
export const AF_INET6 = 10;
/** Address family: netlink. */
export const AF_NETLINK = 16;
/** Address family: link-layer packets. */
export const AF_PACKET = 17;

/** Socket type: stream. */
export const SOCK_STREAM = 1;
/** Socket type: datagram. */
export const SOCK_DGRAM = 2;
/** Socket type: raw. */
export const SOCK_RAW = 3;
/** `socket` type modifier: non-blocking. */
export const SOCK_NONBLOCK = 0o4000;
/** `socket` type modifier: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;

/** Protocol: IP (the default for the family). */
export const IPPROTO_IP = 0;
/** Protocol: UDP. */
export const IPPROTO_UDP = 17;
/** Protocol: raw IP. */
export const IPPROTO_RAW = 255;

/** Ethernet protocol: every protocol (for `AF_PACKET`). */
export const ETH_P_ALL = 0x0003;
/** Ethernet protocol: IPv4. */
export const ETH_P_IP = 0x0800;
/** Ethernet protocol: ARP. */
export const ETH_P_ARP = 0x0806;
/** Ethernet protocol: IPv6. */
export const ETH_P_IPV6 = 0x86dd;

/** `setsockopt` level: the socket itself. */
export const SOL_SOCKET = 1;
/** `setsockopt` level: IPv4. */
export const SOL_IP = 0;
/** `setsockopt` level: IPv6. */
export const SOL_IPV6 = 41;
/** `setsockopt` level: packet sockets. */
export const SOL_PACKET = 263;

/** Socket option: allow reuse of a local address. */
export const SO_REUSEADDR = 2;
/** Socket option: allow sending to broadcast addresses. */
export const SO_BROADCAST = 6;
/** Socket option: send buffer size. */
export const SO_SNDBUF = 7;
/** Socket option: receive buffer size. */
export const SO_RCVBUF = 8;
/** Socket option: allow several sockets on one port. */
export const SO_REUSEPORT = 15;
/** Socket option: receive only from, and send only through, one interface (a name). */
export const SO_BINDTODEVICE = 25;
/** Socket option: attach a classic BPF filter. */
export const SO_ATTACH_FILTER = 26;
/** Socket option: the socket's mark. */
export const SO_MARK = 36;
/** IPv4 option: receive `IP_PKTINFO` control messages. */
export const IP_PKTINFO = 8;
/** IPv6 option: only IPv6 on an AF_INET6 socket. */
export const IPV6_V6ONLY = 26;

/** `recv`/`send` flag: do not block for this call. */
export const MSG_DONTWAIT = 0x40;
/** `recv` flag: return the real length of a truncated datagram. */
export const MSG_TRUNC = 0x20;

/** `poll` event: readable. */
export const POLLIN = 0x1;
/** `poll` event: writable. */
export const POLLOUT = 0x4;
/** `poll` event: error. */
export const POLLERR = 0x8;
/** `poll` event: hung up. */
export const POLLHUP = 0x10;
