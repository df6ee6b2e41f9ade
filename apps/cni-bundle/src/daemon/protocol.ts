// SPDX-License-Identifier: Apache-2.0
// The frames between the launcher (launcher/resident.c) and the daemon, on a SOCK_STREAM Unix
// socket. Little-endian, length-prefixed, no JSON: the launcher is C and must parse nothing but
// lengths. docs/resident.md describes the exchange:
//
//   launcher → daemon  request  "CNB1" u32 bodyLength, body = 6 fields (u32 length + bytes):
//                               payload id, plugin name, working folder, network namespace
//                               ("dev:inode" of /proc/self/ns/net), environment
//                               (NUL-terminated KEY=VALUE entries), stdin
//   daemon → launcher  reply    "CNB1" u8 type u32 number, field one, field two
//                               'A' accepted (number: ms to wait for the result at most)
//                               'R' refused, nothing ran (one: why): the launcher runs it itself
//                               'F' failed midway (one: what happened)
//                               'D' done (number: exit status, one: stdout, two: stderr)
//                               'S' status (one: JSON), the answer to a status frame
//   launcher → daemon  "G"      go: only now may the daemon run the request
//   client → daemon    status   "CNBS" u32 0

/** The magic of a request and of every reply. */
export const MAGIC = Buffer.from('CNB1', 'latin1');
/** The magic of a status request (`cni-bundle daemon status`). */
export const STATUS_MAGIC = Buffer.from('CNBS', 'latin1');
/** skel's cap on stdin; the launcher sends at most one byte more, so the worker answers as the plugin would. */
export const MAX_STDIN = 10 * 1024 * 1024 + 1;
/** Linux's own limit on an exec's arguments and environment is 2 MiB by default; twice that. */
export const MAX_ENV = 4 * 1024 * 1024;
export const MAX_PAYLOAD_ID = 256;
export const MAX_NAME = 256;
export const MAX_CWD = 4096;
export const MAX_NETNS = 64;
/** The largest body a request may announce. */
export const MAX_BODY = 6 * 4 + MAX_PAYLOAD_ID + MAX_NAME + MAX_CWD + MAX_NETNS + MAX_ENV + MAX_STDIN;

/** A request as the launcher sent it. */
export interface ResidentRequest {
  payloadId: string;
  name: string;
  cwd: string;
  /** The caller's network namespace, `dev:inode`; empty when it could not tell. */
  netns: string;
  env: Record<string, string>;
  stdin: Buffer;
}

/** A frame that is not one: the daemon answers it with a refusal and closes. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/** What {@link FrameReader.push} found so far. */
export type Frame = { kind: 'request'; request: ResidentRequest } | { kind: 'status' };

/**
 * Reads one frame from a stream, chunk by chunk, without trusting any length it is told: the
 * announced body must fit {@link MAX_BODY} before a byte of it is kept, and each field must fit
 * its own limit and the body.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #size = 0;
  #body: number | undefined;
  #status = false;

  /** Add bytes; gives the frame once whole, undefined while more is needed. Throws {@link FrameError}. */
  push(chunk: Buffer): Frame | undefined {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#body === undefined) {
      if (this.#size < 8) return undefined;
      const head = this.#take();
      const magic = head.subarray(0, 4);
      this.#status = magic.equals(STATUS_MAGIC);
      if (!this.#status && !magic.equals(MAGIC)) throw new FrameError('not a cni-bundle frame (bad magic)');
      const body = head.readUInt32LE(4);
      if (this.#status ? body !== 0 : body > MAX_BODY) throw new FrameError(`frame body of ${body} bytes is larger than the limit`);
      this.#body = body;
      this.#chunks = [head.subarray(8)];
      this.#size = head.length - 8;
    }
    if (this.#size < this.#body) return undefined;
    if (this.#size > this.#body) throw new FrameError('bytes after the frame');
    if (this.#status) return { kind: 'status' };
    return { kind: 'request', request: decodeRequestBody(this.#take()) };
  }

  #take(): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all;
  }
}

/** Decode a request's body (after magic and length). Throws {@link FrameError}. */
export function decodeRequestBody(body: Buffer): ResidentRequest {
  let at = 0;
  const field = (what: string, limit: number): Buffer => {
    if (at + 4 > body.length) throw new FrameError(`truncated frame: no length for ${what}`);
    const length = body.readUInt32LE(at);
    at += 4;
    if (length > limit) throw new FrameError(`${what} of ${length} bytes is larger than its limit of ${limit}`);
    if (at + length > body.length) throw new FrameError(`truncated frame: ${what} announces ${length} bytes, ${body.length - at} left`);
    const bytes = body.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const text = (what: string, limit: number): string => {
    const bytes = field(what, limit);
    if (bytes.includes(0)) throw new FrameError(`${what} holds a NUL byte`);
    return bytes.toString('utf8');
  };
  const payloadId = text('payload id', MAX_PAYLOAD_ID);
  const name = text('plugin name', MAX_NAME);
  const cwd = text('working folder', MAX_CWD);
  const netns = text('network namespace', MAX_NETNS);
  const env = decodeEnv(field('environment', MAX_ENV));
  const stdin = Buffer.from(field('stdin', MAX_STDIN));
  if (at !== body.length) throw new FrameError(`${body.length - at} bytes after the last field`);
  if (!/^[A-Za-z0-9._-]+$/.test(payloadId)) throw new FrameError(`payload id ${JSON.stringify(payloadId)} is not one`);
  return { payloadId, name, cwd, netns, env, stdin };
}

/** The environment as an exec'd runtime sees it: the first of duplicate names wins (getenv), NODE_* dropped. */
function decodeEnv(bytes: Buffer): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0) throw new FrameError('environment does not end with a NUL byte');
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0, start);
    const entry = bytes.subarray(start, end).toString('utf8');
    start = end + 1;
    const eq = entry.indexOf('=');
    // Node's process.env skips entries without a name: so does this.
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    if (key.startsWith('NODE_') || key in env) continue;
    env[key] = entry.slice(eq + 1);
  }
  return { ...env };
}

/** Encode a request as the launcher does (tests, the benchmark's client). */
export function encodeRequest(request: ResidentRequest): Buffer {
  const envBytes = Buffer.from(
    Object.entries(request.env)
      .map(([key, value]) => `${key}=${value}\0`)
      .join(''),
    'utf8',
  );
  const fields = [Buffer.from(request.payloadId), Buffer.from(request.name), Buffer.from(request.cwd), Buffer.from(request.netns), envBytes, request.stdin];
  const parts: Buffer[] = [MAGIC, u32(fields.reduce((sum, f) => sum + 4 + f.length, 0))];
  for (const field of fields) parts.push(u32(field.length), field);
  return Buffer.concat(parts);
}

/** The types of reply frames. */
export type ReplyType = 'A' | 'R' | 'F' | 'D' | 'S';

/** Encode a reply frame. */
export function encodeReply(type: ReplyType, number: number, one: Uint8Array = Buffer.alloc(0), two: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  MAGIC.copy(head, 0);
  head.write(type, 4, 'latin1');
  head.writeUInt32LE(number >>> 0, 5);
  return Buffer.concat([head, u32(one.length), one, u32(two.length), two]);
}

/** A decoded reply (tests and `cni-bundle daemon status`). */
export interface Reply {
  type: ReplyType;
  number: number;
  one: Buffer;
  two: Buffer;
}

/** Decode the first reply in `bytes`: the reply and the bytes it took, or undefined when incomplete. */
export function decodeReply(bytes: Buffer): { reply: Reply; length: number } | undefined {
  if (bytes.length < 13) return undefined;
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new FrameError('not a cni-bundle reply');
  const oneLength = bytes.readUInt32LE(9);
  if (bytes.length < 13 + oneLength + 4) return undefined;
  const twoLength = bytes.readUInt32LE(13 + oneLength);
  const length = 17 + oneLength + twoLength;
  if (bytes.length < length) return undefined;
  return {
    reply: {
      type: bytes.toString('latin1', 4, 5) as ReplyType,
      number: bytes.readUInt32LE(5),
      one: bytes.subarray(13, 13 + oneLength),
      two: bytes.subarray(17 + oneLength, length),
    },
    length,
  };
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
}
