// SPDX-License-Identifier: Apache-2.0
import { createSocket as createDgram, type Socket } from 'node:dgram';
import { withNetns } from '@cni/netns';
import { AF_INET, SOCK_DGRAM, createSocket } from '@cni/sys';
import { DhcpError, DhcpPacketError, errorText } from './errors.ts';
import { type DhcpMessage, decodeMessage } from './packet.ts';

/** The DHCP ports. */
export const CLIENT_PORT = 68;
export const SERVER_PORT = 67;
/** The limited broadcast address. */
export const BROADCAST = '255.255.255.255';

/** How the client sends and receives DHCP messages on one interface. */
export interface DhcpTransport {
  /** Send to `address`:67; resolves false when the kernel refuses (no route to a unicast server yet). */
  send(packet: Buffer, address: string): Promise<boolean>;
  /** The next reply accepted by `accept`, or undefined after `timeoutMs` or on abort. */
  receive(accept: (message: DhcpMessage) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<DhcpMessage | undefined>;
  /** Close the socket. Safe to call twice. */
  close(): void;
}

interface Waiter {
  accept(message: DhcpMessage): boolean;
  resolve(message: DhcpMessage | undefined): void;
}

/**
 * A UDP socket on 0.0.0.0:68 bound to `ifName` inside the namespace at `netnsPath`.
 *
 * The socket is made by `socket(2)` while this thread is inside the namespace (a synchronous
 * section through @cni/netns), then handed to Node's dgram by descriptor, so the event loop
 * polls it without a thread of its own; measured: `dgram.createSocket` inside the section makes
 * its socket on a later tick, back in the host namespace. A UDP socket cannot receive a unicast
 * to an address the interface does not hold yet, so the client sets the broadcast flag while it
 * has no address (see client.ts).
 */
export async function openTransport(netnsPath: string, ifName: string): Promise<DhcpTransport> {
  let fd: number;
  try {
    fd = withNetns(netnsPath, () =>
      createSocket({
        domain: AF_INET,
        type: SOCK_DGRAM,
        bindToDevice: ifName,
        broadcast: true,
        reuseAddress: true,
        bind: { family: 'inet', address: '0.0.0.0', port: CLIENT_PORT },
      }),
    );
  } catch (error) {
    throw new DhcpError(`failed to open a DHCP socket on "${ifName}" in netns "${netnsPath}": ${errorText(error)}`, { cause: error });
  }
  const socket: Socket = createDgram({ type: 'udp4' });
  const waiters = new Set<Waiter>();
  const early: { message: DhcpMessage; at: number }[] = [];
  let closed = false;
  socket.on('error', () => {
    // Send failures are reported through send's callback; nothing else is expected here.
  });
  socket.on('message', (data: Buffer) => {
    let message: DhcpMessage;
    try {
      message = decodeMessage(data);
    } catch (error) {
      if (DhcpPacketError.isInstance(error)) return; // not for us, or garbage: ignore as clients do
      throw error;
    }
    if (message.op !== 2) return;
    for (const waiter of waiters) {
      if (waiter.accept(message)) {
        waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    // Kept a little while: an answer may arrive between a wait's timeout and the next wait.
    early.push({ message, at: Date.now() });
    if (early.length > 16) early.shift();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('listening', resolve);
    try {
      socket.bind({ fd });
    } catch (error) {
      reject(error);
    }
  });
  return {
    send(packet, address) {
      if (closed) return Promise.resolve(false);
      return new Promise((resolve) => socket.send(packet, SERVER_PORT, address, (error) => resolve(error == null)));
    },
    receive(accept, timeoutMs, signal) {
      if (closed || signal?.aborted) return Promise.resolve(undefined);
      const kept = early.findIndex((entry) => Date.now() - entry.at < 10_000 && accept(entry.message));
      if (kept >= 0) return Promise.resolve(early.splice(kept, 1)[0]!.message);
      return new Promise((resolve) => {
        const done = (message: DhcpMessage | undefined): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          waiters.delete(waiter);
          resolve(message);
        };
        const onAbort = (): void => done(undefined);
        const waiter: Waiter = { accept, resolve: done };
        const timer = setTimeout(() => done(undefined), Math.max(0, timeoutMs));
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(waiter);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const waiter of [...waiters]) waiter.resolve(undefined);
      waiters.clear();
      socket.close();
    },
  };
}
