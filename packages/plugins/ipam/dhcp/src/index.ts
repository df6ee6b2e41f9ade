// SPDX-License-Identifier: Apache-2.0
/**
 * The dhcp IPAM plugin, its daemon and the DHCPv4 client the daemon runs inside containers'
 * network namespaces.
 *
 * @packageDocumentation
 */
export { dhcp } from './plugin.ts';

export { startDaemon } from './daemon.ts';
export type { DaemonOptions, DhcpDaemon, AttachmentInfo, AttachmentState } from './daemon.ts';

export { runDaemonCommand, parseDaemonFlags, parseGoDuration, DAEMON_USAGE } from './cli.ts';

export { DEFAULT_SOCKET_PATH, DEFAULT_REQUEST_LIST, loadDhcpConfig } from './config.ts';
export type { DhcpConfig, DhcpConfigInput } from './config.ts';

export { PROTOCOL_VERSION, MAX_LINE, callDaemon, parseRequest } from './protocol.ts';
export type { DaemonRequest, DaemonResponse, DaemonVerb, CallOptions } from './protocol.ts';

export { acquire, renew, release, retryDelay, leaseOf, sleep } from './client.ts';
export type { ClientParams, RetryPolicy, Lease, RenewOutcome } from './client.ts';

export { openTransport, CLIENT_PORT, SERVER_PORT, BROADCAST } from './transport.ts';
export type { DhcpTransport } from './transport.ts';

export { encodeMessage, decodeMessage, messageType, MAGIC_COOKIE, FLAG_BROADCAST } from './packet.ts';
export type { DhcpMessage } from './packet.ts';

export {
  DHCP_OPTION,
  DHCP_MESSAGE_TYPE,
  OPTION_NAMES,
  optionCode,
  ipv4ToString,
  ipv4ToBytes,
  decodeIp,
  decodeIpList,
  decodeUint32,
  maskToPrefix,
  decodeClasslessRoutes,
  encodeClasslessRoutes,
  decodeStaticRoutes,
  defaultClientId,
} from './options.ts';
export type { DhcpRoute } from './options.ts';

export { buildResult, leaseAddress, serverIdOf } from './result.ts';
export type { LeaseResult } from './result.ts';

export { DEFAULT_STATE_DIR, LeaseStore, leaseKey } from './store.ts';
export type { StoredLease } from './store.ts';

export { DhcpError, DhcpPacketError, DaemonUnreachableError } from './errors.ts';
export type { DhcpErrorOptions } from './errors.ts';
