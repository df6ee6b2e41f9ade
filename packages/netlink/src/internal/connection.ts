// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError, NetlinkError } from '../errors.ts';
import { RawSocket, SyscallError } from './ffi/libnl.ts';
import { attributes, messages, str, type RawMessage } from './message/reader.ts';
import { MessageWriter } from './message/writer.ts';

/** Flags of the netlink message header (linux/netlink.h); ACK_TLVS is on error acks only. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
export const NLM_F_ACK_TLVS = 0x200;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;

/** How many times an interrupted dump is tried again before giving up (netlinksafe's count). */
const DUMP_RETRIES = 5;

/** What an operation is called in errors, and how a missing object is reported. */
export interface OperationContext {
  readonly operation: string;
  readonly target: string;
  /** Report ENODEV as a {@link LinkNotFoundError}. */
  readonly link?: boolean;
}

/** Turns a failed request into the package's error. */
export function kernelError(context: OperationContext, errno: number, detail?: string): NetlinkError {
  const options = { operation: context.operation, target: context.target, errno, ...(detail ? { detail } : {}) };
  if (context.link && errno === 19) return new LinkNotFoundError(options);
  return new NetlinkError(options);
}

class InterruptedDump extends Error {}

/** One rtnetlink socket and its sequence numbers; every call is synchronous. */
export class Connection {
  readonly #socket: RawSocket;
  readonly #writer: MessageWriter;
  #seq = Math.floor(Math.random() * 0x7fffffff);

  constructor(socket: RawSocket) {
    this.#socket = socket;
    this.#writer = new MessageWriter(socket.sendBuffer);
  }

  close(): void {
    this.#socket.close();
  }

  /** Sends a request built by `build` and waits for its acknowledgement. */
  request(context: OperationContext, type: number, flags: number, build: (writer: MessageWriter) => void): void {
    this.#exchange(context, type, NLM_F_REQUEST | NLM_F_ACK | flags, build, () => {});
  }

  /**
   * Sends a request (a GET or a dump) and decodes every reply with `decode`; an undefined result
   * is dropped. A dump the kernel marks as interrupted (its tables changed meanwhile) is redone.
   */
  query<T>(
    context: OperationContext,
    type: number,
    flags: number,
    build: (writer: MessageWriter) => void,
    decode: (message: RawMessage) => T | undefined,
  ): T[] {
    for (let attempt = 1; ; attempt++) {
      const found: T[] = [];
      try {
        this.#exchange(context, type, NLM_F_REQUEST | flags, build, (message) => {
          const value = decode(message);
          if (value !== undefined) found.push(value);
        });
        return found;
      } catch (error) {
        if (!(error instanceof InterruptedDump)) throw error;
        if (attempt >= DUMP_RETRIES) {
          throw new NetlinkError({ ...context, tag: 'Interrupted', errno: 4, detail: 'dump interrupted too often' });
        }
      }
    }
  }

  #exchange(
    context: OperationContext,
    type: number,
    flags: number,
    build: (writer: MessageWriter) => void,
    onMessage: (message: RawMessage) => void,
  ): void {
    const seq = (this.#seq = (this.#seq + 1) & 0x7fffffff);
    this.#writer.begin(type, flags, seq);
    build(this.#writer);
    const length = this.#writer.finish();
    try {
      this.#socket.send(length);
    } catch (error) {
      throw this.#syscall(context, error);
    }
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    let interrupted = false;
    for (;;) {
      let received: number;
      try {
        received = this.#socket.receive();
      } catch (error) {
        throw this.#syscall(context, error);
      }
      for (const message of messages(this.#socket.receiveBuffer.subarray(0, received))) {
        // Replies to an earlier request that was abandoned (an exception mid-dump) are skipped.
        if (message.seq !== seq) continue;
        if (message.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (message.type === NLMSG_DONE) {
          if (interrupted) throw new InterruptedDump();
          return;
        }
        if (message.type === NLMSG_ERROR) {
          const error = -message.payload.readInt32LE(0);
          if (error === 0) return;
          let detail: string | undefined;
          if (message.flags & NLM_F_ACK_TLVS) {
            // With NETLINK_CAP_ACK the request is not echoed: only its 16-byte header precedes the TLVs.
            detail = str(attributes(message.payload, 4 + 16).get(NLMSGERR_ATTR_MSG));
          }
          throw kernelError(context, error, detail ? `${errnoText(error)} (${detail})` : undefined);
        }
        onMessage(message);
        if (!dump && !(message.flags & NLM_F_MULTI) && !(flags & NLM_F_ACK)) return;
      }
    }
  }

  #syscall(context: OperationContext, error: unknown): NetlinkError {
    if (error instanceof SyscallError) return new NetlinkError({ ...context, errno: error.errno, cause: error });
    return new NetlinkError({ ...context, tag: 'Unknown', detail: String(error), cause: error });
  }
}

function errnoText(errno: number): string {
  return new NetlinkError({ operation: '', errno }).message.replace(/^[A-Za-z]+: : /, '');
}
