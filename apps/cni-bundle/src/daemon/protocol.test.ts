// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeReply, encodeReply, encodeRequest, FrameError, FrameReader, MAX_BODY, MAX_STDIN, type ResidentRequest } from './protocol.ts';

const request: ResidentRequest = {
  payloadId: '0.1.0-0123456789ab',
  name: 'bridge',
  cwd: '/',
  netns: '4:4026531840',
  env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', PATH: '/usr/bin:/bin', EMPTY: '' },
  stdin: Buffer.from('{"cniVersion":"1.1.0"}'),
};

/** Feed `bytes` to a reader in chunks of `size`. */
function read(bytes: Buffer, size = bytes.length) {
  const reader = new FrameReader();
  let frame;
  for (let at = 0; at < bytes.length; at += size) frame = reader.push(bytes.subarray(at, at + size));
  return frame;
}

describe('request frames', () => {
  it('round-trip whole and byte by byte', () => {
    const bytes = encodeRequest(request);
    expect(read(bytes)).toEqual({ kind: 'request', request });
    expect(read(bytes, 1)).toEqual({ kind: 'request', request });
  });

  it('keep the first of two entries with one name (as getenv) and drop NODE_* and entries without a name', () => {
    const body = encodeRequest({ ...request, env: {} });
    const env = Buffer.from('A=1\0A=2\0NODE_OPTIONS=--require x\0=nameless\0noequals\0B=x=y\0');
    const frame = Buffer.concat([body.subarray(0, body.length - 4 - request.stdin.length - 4), u32(env.length), env, u32(request.stdin.length), request.stdin]);
    frame.writeUInt32LE(frame.length - 8, 4);
    expect(read(frame)).toMatchObject({ request: { env: { A: '1', B: 'x=y' } } });
  });

  it('accept the largest stdin the launcher sends (the cap and one byte)', () => {
    const big = encodeRequest({ ...request, stdin: Buffer.alloc(MAX_STDIN, 0x20) });
    expect((read(big, 65536) as { request: ResidentRequest }).request.stdin.length).toBe(MAX_STDIN);
  });

  const bad: [string, Buffer, RegExp][] = [
    ['another protocol', Buffer.from('GET / HTTP/1.1\r\n\r\n'), /bad magic/],
    ['a body over the limit, refused before it is read', Buffer.concat([Buffer.from('CNB1'), u32(MAX_BODY + 1)]), /larger than the limit/],
    ['a field longer than the body', frameOf(u32(100), Buffer.from('x')), /truncated frame/],
    ['a field over its own limit', frameOf(u32(300), Buffer.alloc(300, 0x61)), /payload id of 300 bytes is larger than its limit/],
    ['a missing field', frameOf(u32(1), Buffer.from('a')), /truncated frame: no length for plugin name/],
    ['a NUL in the plugin name', encodeRequest({ ...request, name: 'bri\0dge' }), /plugin name holds a NUL byte/],
    ['a payload id that is not one', encodeRequest({ ...request, payloadId: '../x' }), /payload id "..\/x" is not one/],
    ['an environment without its last NUL', withEnv(Buffer.from('A=1')), /does not end with a NUL/],
    ['bytes after the frame', Buffer.concat([encodeRequest(request), Buffer.from('G')]), /bytes after the frame/],
    ['a status frame with a body', Buffer.concat([Buffer.from('CNBS'), u32(1), Buffer.from('x')]), /larger than the limit/],
  ];
  it.each(bad)('refuse %s', (_name, bytes, message) => {
    expect(() => read(bytes)).toThrow(FrameError);
    expect(() => read(bytes)).toThrow(message);
  });

  it('fuzz: random bytes, truncations and mutations of a good frame only ever give a frame or a FrameError', () => {
    const good = encodeRequest(request);
    const check = (bytes: Buffer) => {
      try {
        read(bytes, 1 + (bytes.length % 7));
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
      }
    };
    for (let i = 0; i < 3000; i++) {
      check(randomBytes(i % 64));
      check(good.subarray(0, i % good.length));
      const mutated = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 4); k++) mutated[randomBytes(2).readUInt16LE() % mutated.length] = randomBytes(1)[0]!;
      check(mutated);
      // Lengths are where a parser breaks: set one to an extreme.
      const lengths = Buffer.from(good);
      const at = 8 + (i % 6) * 4;
      if (at + 4 <= lengths.length) lengths.writeUInt32LE([0, 1, 0xffffffff, 0x7fffffff, MAX_STDIN + 1, good.length][i % 6]!, at);
      check(lengths);
    }
  });
});

describe('reply frames', () => {
  it('round-trip, and say when more bytes are needed', () => {
    const bytes = encodeReply('D', 1, Buffer.from('{"code":7}'), Buffer.from('warn\n'));
    expect(decodeReply(bytes)).toEqual({ reply: { type: 'D', number: 1, one: Buffer.from('{"code":7}'), two: Buffer.from('warn\n') }, length: bytes.length });
    for (let cut = 0; cut < bytes.length; cut++) expect(decodeReply(bytes.subarray(0, cut))).toBeUndefined();
  });
});

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
}

function frameOf(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from('CNB1'), u32(body.length), body]);
}

function withEnv(env: Buffer): Buffer {
  const text = (s: string) => [u32(Buffer.byteLength(s)), Buffer.from(s)];
  return frameOf(...text(request.payloadId), ...text(request.name), ...text(request.cwd), ...text(request.netns), u32(env.length), env, u32(0));
}
