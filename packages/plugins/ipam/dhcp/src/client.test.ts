// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { type ClientParams, type RetryPolicy, acquire, release, renew } from './client.ts';
import { DHCP_MESSAGE_TYPE, DHCP_OPTION } from './options.ts';
import { type DhcpMessage, FLAG_BROADCAST, decodeMessage, messageType } from './packet.ts';
import type { DhcpTransport } from './transport.ts';

const params: ClientParams = {
  mac: '02:00:00:00:00:01',
  requestList: [1, 3],
  provide: new Map([[DHCP_OPTION.CLIENT_ID, Buffer.from('\0c/n/eth0')]]),
  broadcast: false,
};
const policy: RetryPolicy = { timeoutMs: 50, resendMaxMs: 40, resendTimeoutMs: 400 };

/** A server in memory: `answer` decides the reply to each message the client sends. */
function fakeServer(answer: (request: DhcpMessage, sent: number) => { type: number; delayMs?: number } | undefined) {
  const sent: { message: DhcpMessage; to: string }[] = [];
  const inbox: DhcpMessage[] = [];
  const waiters: { accept: (m: DhcpMessage) => boolean; resolve: (m: DhcpMessage | undefined) => void }[] = [];
  const deliver = (message: DhcpMessage): void => {
    const index = waiters.findIndex((w) => w.accept(message));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else inbox.push(message);
  };
  const transport: DhcpTransport = {
    async send(packet, to) {
      const message = decodeMessage(packet);
      sent.push({ message, to });
      const reply = answer(message, sent.length);
      if (reply === undefined) return true;
      const options = new Map<number, Buffer>([
        [DHCP_OPTION.MESSAGE_TYPE, Buffer.from([reply.type])],
        [DHCP_OPTION.SERVER_ID, Buffer.from([10, 0, 0, 1])],
        [DHCP_OPTION.SUBNET_MASK, Buffer.from([255, 255, 255, 0])],
        [DHCP_OPTION.LEASE_TIME, Buffer.from([0, 0, 0, 120])],
      ]);
      const response: DhcpMessage = { ...message, op: 2, yiaddr: '10.0.0.7', options };
      setTimeout(() => deliver(response), reply.delayMs ?? 0);
      return true;
    },
    receive(accept, timeoutMs) {
      const kept = inbox.findIndex(accept);
      if (kept >= 0) return Promise.resolve(inbox.splice(kept, 1)[0]);
      return new Promise((resolve) => {
        const waiter = { accept, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          resolve(undefined);
        }, timeoutMs);
      });
    },
    close() {},
  };
  return { transport, sent };
}

describe('the DHCP client', () => {
  it('runs DISCOVER, OFFER, REQUEST, ACK with the broadcast flag, client id and request list', async () => {
    const server = fakeServer((m) => ({ type: messageType(m) === DHCP_MESSAGE_TYPE.DISCOVER ? DHCP_MESSAGE_TYPE.OFFER : DHCP_MESSAGE_TYPE.ACK }));
    const lease = await acquire(server.transport, params, policy);
    expect(lease).toMatchObject({ address: '10.0.0.7/24', serverId: '10.0.0.1', leaseTime: 120, t1: 60, t2: 102 });
    const [discover, request] = server.sent;
    expect(messageType(discover!.message)).toBe(DHCP_MESSAGE_TYPE.DISCOVER);
    expect(discover!.to).toBe('255.255.255.255');
    expect(discover!.message.flags & FLAG_BROADCAST).toBe(FLAG_BROADCAST);
    expect(discover!.message.options.get(DHCP_OPTION.CLIENT_ID)?.toString()).toBe('\0c/n/eth0');
    expect([...discover!.message.options.get(DHCP_OPTION.PARAMETER_REQUEST_LIST)!]).toEqual([1, 3]);
    expect(messageType(request!.message)).toBe(DHCP_MESSAGE_TYPE.REQUEST);
    expect(request!.message.options.get(DHCP_OPTION.REQUESTED_IP)).toEqual(Buffer.from([10, 0, 0, 7]));
    expect(request!.message.options.get(DHCP_OPTION.SERVER_ID)).toEqual(Buffer.from([10, 0, 0, 1]));
    expect(request!.message.xid).toBe(discover!.message.xid);
  });

  it('takes an OFFER that answers an earlier retransmission (one xid per acquisition)', async () => {
    // The first DISCOVER is answered late, after the client has retransmitted.
    const server = fakeServer((m, n) => (messageType(m) === DHCP_MESSAGE_TYPE.DISCOVER ? (n === 1 ? { type: DHCP_MESSAGE_TYPE.OFFER, delayMs: 60 } : undefined) : { type: DHCP_MESSAGE_TYPE.ACK }));
    const lease = await acquire(server.transport, params, { ...policy, resendMaxMs: 40 });
    expect(lease.address).toBe('10.0.0.7/24');
    expect(new Set(server.sent.map((s) => s.message.xid)).size).toBe(1);
  });

  it('starts over after a NAK, and names a silent server when it gives up', async () => {
    let naks = 0;
    const server = fakeServer((m) => {
      if (messageType(m) === DHCP_MESSAGE_TYPE.DISCOVER) return { type: DHCP_MESSAGE_TYPE.OFFER };
      return naks++ === 0 ? { type: DHCP_MESSAGE_TYPE.NAK } : { type: DHCP_MESSAGE_TYPE.ACK };
    });
    await expect(acquire(server.transport, params, policy)).resolves.toMatchObject({ address: '10.0.0.7/24' });
    expect(server.sent.filter((s) => messageType(s.message) === DHCP_MESSAGE_TYPE.DISCOVER)).toHaveLength(2);

    const silent = fakeServer(() => undefined);
    await expect(acquire(silent.transport, params, policy, { ifName: 'eth0' })).rejects.toThrow('no DHCP server answered on "eth0" within 0.4 s (no DHCPOFFER)');
    const offersOnly = fakeServer((m) => (messageType(m) === DHCP_MESSAGE_TYPE.DISCOVER ? { type: DHCP_MESSAGE_TYPE.OFFER } : undefined));
    await expect(acquire(offersOnly.transport, params, policy)).rejects.toThrow(/offered addresses but never acknowledged/);
  });

  it('renews by unicast without requested address or server id, rebinds by broadcast, releases with the server id', async () => {
    const server = fakeServer((m) => {
      const type = messageType(m);
      if (type === DHCP_MESSAGE_TYPE.RELEASE) return undefined;
      return { type: type === DHCP_MESSAGE_TYPE.DISCOVER ? DHCP_MESSAGE_TYPE.OFFER : DHCP_MESSAGE_TYPE.ACK };
    });
    const lease = await acquire(server.transport, params, policy);
    const renewed = await renew(server.transport, params, lease, policy, false);
    expect(renewed.kind).toBe('ack');
    const renewal = server.sent.at(-1)!;
    expect(renewal.to).toBe('10.0.0.1');
    expect(renewal.message.ciaddr).toBe('10.0.0.7');
    expect(renewal.message.flags).toBe(0);
    expect(renewal.message.options.has(DHCP_OPTION.REQUESTED_IP)).toBe(false);
    expect(renewal.message.options.has(DHCP_OPTION.SERVER_ID)).toBe(false);
    await renew(server.transport, params, lease, policy, true);
    expect(server.sent.at(-1)!.to).toBe('255.255.255.255');

    expect(await release(server.transport, params, lease)).toBe(true);
    const released = server.sent.at(-1)!;
    expect(messageType(released.message)).toBe(DHCP_MESSAGE_TYPE.RELEASE);
    expect(released.to).toBe('10.0.0.1');
    expect(released.message.options.get(DHCP_OPTION.SERVER_ID)).toEqual(Buffer.from([10, 0, 0, 1]));
    await release(server.transport, params, lease, false);
    expect(server.sent.at(-1)!.to).toBe('255.255.255.255');

    const nak = fakeServer(() => ({ type: DHCP_MESSAGE_TYPE.NAK }));
    expect((await renew(nak.transport, params, lease, policy, false)).kind).toBe('nak');
    expect((await renew(fakeServer(() => undefined).transport, params, lease, policy, false)).kind).toBe('silent');
  });
});
