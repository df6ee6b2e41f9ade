// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { LinkNotFoundError, NetlinkError } from '../errors.ts';
import { Connection, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI } from './connection.ts';
import type { RawSocket } from './ffi/libnl.ts';
import { MessageWriter } from './message/writer.ts';

/** A socket that answers each request with the datagrams `reply` builds from its sequence number. */
function fakeSocket(reply: (seq: number, attempt: number) => Buffer[]): { socket: RawSocket; sent: () => number } {
  const sendBuffer = Buffer.alloc(4096);
  const receiveBuffer = Buffer.alloc(4096);
  let queue: Buffer[] = [];
  let requests = 0;
  const socket = {
    sendBuffer,
    receiveBuffer,
    send(length: number) {
      expect(length).toBeGreaterThanOrEqual(16);
      queue = reply(sendBuffer.readUInt32LE(8), requests++);
    },
    receive() {
      const next = queue.shift();
      if (!next) throw new Error('nothing to receive');
      next.copy(receiveBuffer);
      return next.length;
    },
    close() {},
  };
  return { socket: socket as unknown as RawSocket, sent: () => requests };
}

function message(type: number, flags: number, seq: number, fill: (writer: MessageWriter) => void = () => {}): Buffer {
  const writer = new MessageWriter(Buffer.alloc(512));
  writer.begin(type, flags, seq);
  fill(writer);
  return Buffer.from(writer.buffer.subarray(0, writer.finish()));
}

const done = (seq: number, flags = NLM_F_MULTI) => message(3, flags, seq, (writer) => writer.zeros(4));
const item = (seq: number, value: number, flags = NLM_F_MULTI) => message(16, flags, seq, (writer) => writer.u32(1, value));
const decode = (raw: { type: number; payload: Buffer }) => (raw.type === 16 ? raw.payload.readUInt32LE(4) : undefined);
const context = { operation: 'link.list', target: '' };

describe('Connection', () => {
  it('collects a multi-part dump until NLMSG_DONE', () => {
    const { socket } = fakeSocket((seq) => [Buffer.concat([item(seq, 1), item(seq, 2)]), Buffer.concat([item(seq, 3), done(seq)])]);
    expect(new Connection(socket).query(context, 18, NLM_F_DUMP, () => {}, decode)).toEqual([1, 2, 3]);
  });

  it('redoes a dump the kernel marks as interrupted, and gives up after five tries', () => {
    const flaky = fakeSocket((seq, attempt) => [Buffer.concat([item(seq, attempt, NLM_F_MULTI | (attempt < 2 ? NLM_F_DUMP_INTR : 0)), done(seq)])]);
    expect(new Connection(flaky.socket).query(context, 18, NLM_F_DUMP, () => {}, decode)).toEqual([2]);
    expect(flaky.sent()).toBe(3);
    const broken = fakeSocket((seq) => [Buffer.concat([item(seq, 0, NLM_F_MULTI | NLM_F_DUMP_INTR), done(seq)])]);
    const error = (() => {
      try {
        new Connection(broken.socket).query(context, 18, NLM_F_DUMP, () => {}, decode);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ tag: 'Interrupted', operation: 'link.list' });
    expect(broken.sent()).toBe(5);
  });

  it('turns an error ack into a NetlinkError with the extended ack text, and ENODEV on a link into LinkNotFoundError', () => {
    const errorAck = (errno: number, text?: string) =>
      fakeSocket((seq) => [
        message(2, text ? 0x100 | 0x200 : 0x100, seq, (writer) => {
          const at = writer.zeros(20);
          writer.buffer.writeInt32LE(-errno, at);
          if (text) writer.string(1, text);
        }),
      ]).socket;
    const run = (socket: RawSocket, link: boolean) => {
      try {
        new Connection(socket).request({ operation: 'link.add', target: 'br0', link }, 16, 0, () => {});
      } catch (caught) {
        return caught;
      }
    };
    const invalid = run(errorAck(22, 'unknown attribute'), false);
    expect(NetlinkError.isInstance(invalid)).toBe(true);
    expect(String((invalid as Error).message)).toBe('InvalidArgument: link.add (br0): Invalid argument (unknown attribute)');
    expect(LinkNotFoundError.isInstance(run(errorAck(19), true))).toBe(true);
    expect(LinkNotFoundError.isInstance(run(errorAck(19), false))).toBe(false);
  });

  it('skips replies to an earlier, abandoned request', () => {
    const { socket } = fakeSocket((seq) => [Buffer.concat([item(seq - 1, 9), done(seq - 1)]), Buffer.concat([item(seq, 4), done(seq)])]);
    expect(new Connection(socket).query(context, 18, NLM_F_DUMP, () => {}, decode)).toEqual([4]);
  });
});
