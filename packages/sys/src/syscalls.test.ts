// SPDX-License-Identifier: Apache-2.0
// Calls that need no privilege: sockets on loopback, locks on a temporary file, and errors.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, LOCK_EX, LOCK_SH, LOCK_UN, POLLIN, SOCK_DGRAM, SOL_SOCKET, SO_BROADCAST, SO_REUSEADDR } from './constants.ts';
import { SysError } from './errors.ts';
import { loadFfi } from './internal/ffi.ts';
import {
  close,
  createSocket,
  flock,
  flockAsync,
  getsockname,
  getsockoptInt,
  htons,
  poll,
  pollAsync,
  recvFrom,
  sendTo,
  setns,
  tryFlock,
} from './syscalls.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function udpOnLoopback(): number {
  const fd = createSocket({ domain: AF_INET, type: SOCK_DGRAM, reuseAddress: true, broadcast: true, bind: { family: 'inet', address: '127.0.0.1', port: 0 } });
  cleanups.push(() => close(fd));
  return fd;
}

describe('sockets', () => {
  it('creates a UDP socket with its options set and bound', () => {
    const fd = udpOnLoopback();
    expect(getsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR)).toBe(1);
    expect(getsockoptInt(fd, SOL_SOCKET, SO_BROADCAST)).toBe(1);
    expect(getsockname(fd)).toMatchObject({ family: 'inet', address: '127.0.0.1' });
  });

  it('sends, polls and receives a datagram without blocking', async () => {
    const receiver = udpOnLoopback();
    const sender = udpOnLoopback();
    const to = getsockname(receiver);
    if (to?.family !== 'inet') throw new Error('no address');
    expect(() => recvFrom(receiver, Buffer.alloc(16))).toThrow(expect.objectContaining({ tag: 'WouldBlock' }));
    expect(await pollAsync([{ fd: receiver, events: POLLIN }], 0)).toEqual([0]);
    expect(sendTo(sender, Buffer.from('discover'), to)).toBe(8);
    expect(poll([{ fd: receiver, events: POLLIN }], 1000)[0]! & POLLIN).toBe(POLLIN);
    const received = recvFrom(receiver, Buffer.alloc(4));
    expect(received.data.toString()).toBe('disc');
    expect(received.truncated).toBe(true);
    expect(received.from).toEqual(getsockname(sender));
  });

  it('closes the socket again when an option fails', () => {
    expect(() => createSocket({ domain: AF_INET, type: SOCK_DGRAM, bind: { family: 'inet', address: '192.0.2.1', port: 0 } })).toThrow(
      expect.objectContaining({ syscall: 'bind', tag: 'NotFound' }),
    );
  });

  it('turns bad descriptors into typed errors instead of crashing', () => {
    expect(() => close(-1)).toThrow(SysError);
    expect(() => setns(999_999, 0)).toThrow(expect.objectContaining({ code: 'EBADF', tag: 'InvalidArgument' }));
  });

  it('swaps bytes for AF_PACKET protocols', () => {
    expect(htons(0x0800)).toBe(0x0008);
    expect(htons(0x0003)).toBe(0x0300);
  });
});

describe('flock', () => {
  function lockFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'cni-sys-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'lock');
  }
  function open(path: string): number {
    const fd = openSync(path, 'a+');
    cleanups.push(() => closeSync(fd));
    return fd;
  }

  it('excludes a second open file and lets it in after unlock', async () => {
    const path = lockFile();
    const first = open(path);
    const second = open(path);
    flock(first, LOCK_EX);
    expect(tryFlock(second, LOCK_EX)).toBe(false);
    expect(() => flock(second, LOCK_EX | 4)).toThrow(expect.objectContaining({ tag: 'WouldBlock' }));
    let taken = false;
    const waiting = flockAsync(second, LOCK_EX).then(() => {
      taken = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(taken).toBe(false);
    flock(first, LOCK_UN);
    await waiting;
    expect(taken).toBe(true);
    expect(tryFlock(first, LOCK_SH)).toBe(false);
  });

  it('shares a shared lock', () => {
    const path = lockFile();
    flock(open(path), LOCK_SH);
    expect(tryFlock(open(path), LOCK_SH)).toBe(true);
  });
});

describe('loadFfi', () => {
  it('gives an ffi-rs module that calls libc', () => {
    const ffi = loadFfi();
    ffi.open({ library: 'self', path: '' });
    const pid = ffi.load({ library: 'self', funcName: 'getpid', retType: ffi.DataType.I32, paramsType: [], paramsValue: [] });
    expect(pid).toBe(process.pid);
    const buffer = Buffer.from('42\0');
    expect(ffi.load({ library: 'self', funcName: 'atoi', retType: ffi.DataType.I32, paramsType: [ffi.DataType.U8Array], paramsValue: [buffer] })).toBe(42);
  });
});
