// SPDX-License-Identifier: Apache-2.0
import { randomInt } from 'node:crypto';
import { DhcpError } from './errors.ts';
import { DHCP_MESSAGE_TYPE, DHCP_OPTION, decodeUint32, ipv4ToBytes } from './options.ts';
import { type DhcpMessage, FLAG_BROADCAST, encodeMessage, messageType } from './packet.ts';
import { leaseAddress, serverIdOf } from './result.ts';
import { BROADCAST, type DhcpTransport } from './transport.ts';

/** What the client sends on behalf of one attachment. */
export interface ClientParams {
  /** The interface's hardware address (chaddr). */
  readonly mac: string;
  /** Option 55. */
  readonly requestList: readonly number[];
  /** Options sent in every DISCOVER, REQUEST and RELEASE (client id, host name, classes...). */
  readonly provide: ReadonlyMap<number, Buffer>;
  /** Set the broadcast flag also once the client has an address (upstream's `-broadcast`). */
  readonly broadcast: boolean;
}

/** Timing of retransmissions (upstream's daemon flags). */
export interface RetryPolicy {
  /** The longest wait for one answer before resending (`-resendmax`, default 62 s). */
  readonly resendMaxMs: number;
  /** The longest an acquisition may take in all (`-resendtimeout`, default 208 s). */
  readonly resendTimeoutMs: number;
  /** The wait for an answer to a renewal, rebinding or release (`-timeout`, default 10 s). */
  readonly timeoutMs: number;
}

/** A lease as the client keeps it: the ACK it came with and when it was bound. */
export interface Lease {
  /** The address with its prefix. */
  readonly address: string;
  readonly serverId: string;
  /** Seconds, from the ACK (default one hour). */
  readonly leaseTime: number;
  /** Seconds after `boundAt` to renew (T1) and to rebind (T2). */
  readonly t1: number;
  readonly t2: number;
  /** Epoch milliseconds at which the ACK arrived. */
  readonly boundAt: number;
  /** The ACK, from which the result is built. */
  readonly ack: DhcpMessage;
}

/** What renewing or rebinding ended with. */
export type RenewOutcome = { kind: 'ack'; lease: Lease } | { kind: 'nak' } | { kind: 'silent' };

/**
 * The wait before retransmission `attempt` (0-based): four quick ones of 2 s give or take 1 s,
 * then from 4 s doubling up to `resendMaxMs`, as upstream's client backs off.
 */
export function retryDelay(attempt: number, resendMaxMs: number, random: () => number = Math.random): number {
  if (attempt < 4) return Math.min(resendMaxMs, 1000 + Math.floor(random() * 2000));
  return Math.min(resendMaxMs, 4000 * 2 ** Math.min(attempt - 4, 20));
}

/** The lease of an ACK, with T1 and T2 defaulting to 50 % and 85 % of the lease time. */
export function leaseOf(ack: DhcpMessage, boundAt: number): Lease {
  const seconds = (code: number): number | undefined => {
    const value = ack.options.get(code);
    return value?.length === 4 ? decodeUint32(value) : undefined;
  };
  const leaseTime = seconds(DHCP_OPTION.LEASE_TIME) ?? 3600;
  let t1 = seconds(DHCP_OPTION.RENEWAL_TIME) ?? Math.floor(leaseTime * 0.5);
  let t2 = seconds(DHCP_OPTION.REBINDING_TIME) ?? Math.floor(leaseTime * 0.85);
  if (t2 > leaseTime || t2 <= 0) t2 = Math.floor(leaseTime * 0.85);
  if (t1 > t2 || t1 <= 0) t1 = Math.floor(t2 * 0.6);
  return { address: leaseAddress(ack), serverId: serverIdOf(ack), leaseTime, t1, t2, boundAt, ack };
}

function newXid(): number {
  return randomInt(0, 0xffffffff);
}

function build(params: ClientParams, type: number, xid: number, fields: { ciaddr?: string; secs?: number; broadcast: boolean; extra?: [number, Buffer][] }): Buffer {
  const options = new Map<number, Buffer>([[DHCP_OPTION.MESSAGE_TYPE, Buffer.from([type])]]);
  for (const [code, value] of fields.extra ?? []) options.set(code, value);
  if (type !== DHCP_MESSAGE_TYPE.RELEASE) {
    options.set(DHCP_OPTION.PARAMETER_REQUEST_LIST, Buffer.from(params.requestList));
    options.set(DHCP_OPTION.MAX_MESSAGE_SIZE, Buffer.from([0x05, 0xdc]));
  }
  for (const [code, value] of params.provide) {
    if (type === DHCP_MESSAGE_TYPE.RELEASE && code !== DHCP_OPTION.CLIENT_ID) continue;
    options.set(code, value);
  }
  return encodeMessage({
    op: 1,
    xid,
    secs: fields.secs ?? 0,
    flags: fields.broadcast ? FLAG_BROADCAST : 0,
    ciaddr: fields.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: params.mac,
    options,
  });
}

function replyTo(xid: number, params: ClientParams, types: readonly number[]): (message: DhcpMessage) => boolean {
  const mac = params.mac.toLowerCase();
  return (message) => message.xid === xid && message.chaddr === mac && types.includes(messageType(message) ?? -1);
}

/** Wait `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * DISCOVER, OFFER, REQUEST, ACK, retransmitting with {@link retryDelay} until
 * `resendTimeoutMs`. The broadcast flag is set in every message: the client has no address yet.
 * A NAK to the REQUEST starts over with a DISCOVER.
 *
 * @throws DhcpError when no server answered in time, or on abort.
 */
export async function acquire(transport: DhcpTransport, params: ClientParams, policy: RetryPolicy, options: { requestedIp?: string; signal?: AbortSignal; ifName?: string } = {}): Promise<Lease> {
  const started = Date.now();
  const deadline = started + policy.resendTimeoutMs;
  const secs = (): number => Math.floor((Date.now() - started) / 1000);
  let attempt = 0;
  let offers = 0;
  // One xid for the whole acquisition, so that an answer to an earlier retransmission still counts
  // (a server that probes the address first, as dnsmasq does with ping, answers seconds late).
  const xid = newXid();
  while (Date.now() < deadline && !options.signal?.aborted) {
    const hint: [number, Buffer][] = options.requestedIp ? [[DHCP_OPTION.REQUESTED_IP, ipv4ToBytes(options.requestedIp)]] : [];
    const discover = build(params, DHCP_MESSAGE_TYPE.DISCOVER, xid, { broadcast: true, secs: secs(), extra: hint });
    const wait = Math.min(retryDelay(attempt++, policy.resendMaxMs), Math.max(0, deadline - Date.now()));
    const pending = transport.receive(replyTo(xid, params, [DHCP_MESSAGE_TYPE.OFFER]), wait, options.signal);
    await transport.send(discover, BROADCAST);
    const offer = await pending;
    if (offer === undefined) continue;
    offers++;
    const request = build(params, DHCP_MESSAGE_TYPE.REQUEST, xid, {
      broadcast: true,
      secs: secs(),
      extra: [
        [DHCP_OPTION.REQUESTED_IP, ipv4ToBytes(offer.yiaddr)],
        [DHCP_OPTION.SERVER_ID, ipv4ToBytes(serverIdOf(offer))],
      ],
    });
    for (let tries = 0; tries < 4 && Date.now() < deadline && !options.signal?.aborted; tries++) {
      const answer = transport.receive(replyTo(xid, params, [DHCP_MESSAGE_TYPE.ACK, DHCP_MESSAGE_TYPE.NAK]), Math.min(retryDelay(tries, policy.resendMaxMs), Math.max(0, deadline - Date.now())), options.signal);
      await transport.send(request, BROADCAST);
      const ack = await answer;
      if (ack === undefined) continue;
      if (messageType(ack) === DHCP_MESSAGE_TYPE.NAK) break;
      return leaseOf(ack, Date.now());
    }
  }
  if (options.signal?.aborted) throw new DhcpError('the acquisition was cancelled');
  const seconds = Number((policy.resendTimeoutMs / 1000).toFixed(1));
  const where = options.ifName === undefined ? '' : ` on "${options.ifName}"`;
  throw new DhcpError(
    offers === 0
      ? `no DHCP server answered${where} within ${seconds} s (no DHCPOFFER)`
      : `the DHCP server offered addresses${where} but never acknowledged a request within ${seconds} s`,
    { code: 11 },
  );
}

/**
 * One renewal (unicast to the server, RFC 2131 4.3.6: ciaddr set, no requested address or
 * server id) or rebinding (the same, broadcast), waiting `timeoutMs` for the answer. The daemon
 * also broadcasts a renewal when the interface does not hold the address (an IPAM-only attachment).
 */
export async function renew(transport: DhcpTransport, params: ClientParams, lease: Lease, policy: RetryPolicy, rebinding: boolean, signal?: AbortSignal): Promise<RenewOutcome> {
  const xid = newXid();
  const ciaddr = lease.address.split('/')[0]!;
  const request = build(params, DHCP_MESSAGE_TYPE.REQUEST, xid, { ciaddr, broadcast: params.broadcast });
  const answer = transport.receive(replyTo(xid, params, [DHCP_MESSAGE_TYPE.ACK, DHCP_MESSAGE_TYPE.NAK]), policy.timeoutMs, signal);
  const sent = await transport.send(request, rebinding ? BROADCAST : lease.serverId);
  if (!sent && !rebinding) await transport.send(request, BROADCAST);
  const reply = await answer;
  if (reply === undefined) return { kind: 'silent' };
  if (messageType(reply) === DHCP_MESSAGE_TYPE.NAK) return { kind: 'nak' };
  return { kind: 'ack', lease: leaseOf(reply, Date.now()) };
}

/**
 * DHCPRELEASE to the server: unicast from the leased address when the interface holds it
 * (`unicast`), else broadcast, since a unicast from an interface without an address leaves with
 * source 0.0.0.0 and servers drop it. Returns whether it went out.
 */
export async function release(transport: DhcpTransport, params: ClientParams, lease: Lease, unicast = true): Promise<boolean> {
  const ciaddr = lease.address.split('/')[0]!;
  const packet = build(params, DHCP_MESSAGE_TYPE.RELEASE, newXid(), {
    ciaddr,
    broadcast: false,
    extra: [[DHCP_OPTION.SERVER_ID, ipv4ToBytes(lease.serverId)]],
  });
  return (unicast && (await transport.send(packet, lease.serverId))) || (await transport.send(packet, BROADCAST));
}

