// SPDX-License-Identifier: Apache-2.0
// Root only: namespaces, mounts and locks checked with tools that are not this package
// (readlink of /proc, /proc/self/mountinfo, util-linux flock, iproute2).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AF_INET, AF_PACKET, CLONE_NEWNET, ETH_P_IP, LOCK_EX, LOCK_SH, LOCK_UN, MNT_DETACH, MS_BIND, POLLIN, SOCK_DGRAM } from './constants.ts';
import { close, createSocket, flock, flockAsync, getsockname, htons, mount, poll, recvFrom, sendTo, setns, umount, unshare } from './syscalls.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // One failed cleanup must not keep the others from running.
    }
  }
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cni-sys-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const currentNetns = () => readlinkSync('/proc/thread-self/ns/net');

describe.skipIf(process.getuid?.() !== 0)('system calls as root', () => {
  it('unshare moves the thread into a new network namespace and setns brings it back', () => {
    const before = currentNetns();
    const original = openSync('/proc/thread-self/ns/net', 'r');
    cleanups.push(() => closeSync(original));
    try {
      unshare(CLONE_NEWNET);
      expect(currentNetns()).not.toBe(before);
      // A fresh namespace has only lo: /proc/net/dev is read by this thread, in it.
      const devices = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter(Boolean).map((line) => line.split(':')[0]!.trim());
      expect(devices).toEqual(['lo']);
    } finally {
      setns(original, CLONE_NEWNET);
    }
    expect(currentNetns()).toBe(before);
  });

  it('setns checks the namespace type it is given', () => {
    const mnt = openSync('/proc/thread-self/ns/mnt', 'r');
    cleanups.push(() => closeSync(mnt));
    expect(() => setns(mnt, CLONE_NEWNET)).toThrow(expect.objectContaining({ syscall: 'setns', code: 'EINVAL', tag: 'InvalidArgument' }));
  });

  it('a socket created after setns lives in that namespace', () => {
    const name = `cni-sys-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name]);
    cleanups.push(() => execFileSync('ip', ['netns', 'delete', name]));
    const original = openSync('/proc/thread-self/ns/net', 'r');
    const target = openSync(`/var/run/netns/${name}`, 'r');
    cleanups.push(() => closeSync(original), () => closeSync(target));
    let fd: number;
    setns(target, CLONE_NEWNET);
    try {
      fd = createSocket({ domain: AF_INET, type: SOCK_DGRAM, reuseAddress: true, bind: { family: 'inet', address: '0.0.0.0', port: 0 } });
    } finally {
      setns(original, CLONE_NEWNET);
    }
    cleanups.push(() => close(fd));
    const bound = getsockname(fd);
    if (bound?.family !== 'inet') throw new Error('no address');
    const inside = execFileSync('ip', ['netns', 'exec', name, 'ss', '-Hnul', `sport = :${bound.port}`], { encoding: 'utf8' });
    const outside = execFileSync('ss', ['-Hnul', `sport = :${bound.port}`], { encoding: 'utf8' });
    expect(inside).toContain(`0.0.0.0:${bound.port}`);
    expect(outside).not.toContain(`:${bound.port}`);
  });

  it('a raw packet socket bound to one end of a veth receives a frame sent from the other end', () => {
    const name = `cni-sys-raw-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name]);
    cleanups.push(() => execFileSync('ip', ['netns', 'delete', name]));
    execFileSync('ip', ['-n', name, 'link', 'add', 'raw0', 'type', 'veth', 'peer', 'name', 'raw1']);
    execFileSync('ip', ['-n', name, 'link', 'set', 'raw0', 'up']);
    execFileSync('ip', ['-n', name, 'link', 'set', 'raw1', 'up']);
    const links = JSON.parse(execFileSync('ip', ['-j', '-n', name, 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; ifindex: number; address: string }[];
    const raw0 = links.find((link) => link.ifname === 'raw0')!;
    const raw1 = links.find((link) => link.ifname === 'raw1')!;
    const original = openSync('/proc/thread-self/ns/net', 'r');
    const target = openSync(`/var/run/netns/${name}`, 'r');
    cleanups.push(() => closeSync(original), () => closeSync(target));
    let sender: number;
    let receiver: number;
    setns(target, CLONE_NEWNET);
    try {
      const protocol = htons(ETH_P_IP);
      sender = createSocket({ domain: AF_PACKET, type: SOCK_DGRAM, protocol, bind: { family: 'packet', protocol: ETH_P_IP, ifindex: raw0.ifindex } });
      cleanups.push(() => close(sender));
      receiver = createSocket({ domain: AF_PACKET, type: SOCK_DGRAM, protocol, bind: { family: 'packet', protocol: ETH_P_IP, ifindex: raw1.ifindex } });
      cleanups.push(() => close(receiver));
    } finally {
      setns(original, CLONE_NEWNET);
    }
    // SOCK_DGRAM packet sockets build the Ethernet header from the address: a broadcast, as a DHCP DISCOVER.
    const payload = Buffer.from('45000014000000004011000000000000ffffffff', 'hex');
    sendTo(sender, payload, { family: 'packet', protocol: ETH_P_IP, ifindex: raw0.ifindex, hardwareAddress: 'ff:ff:ff:ff:ff:ff' });
    expect(poll([{ fd: receiver, events: POLLIN }], 2000)[0]! & POLLIN).toBe(POLLIN);
    const received = recvFrom(receiver, Buffer.alloc(1500));
    expect(received.data.subarray(0, payload.length)).toEqual(payload);
    expect(received.from).toMatchObject({ family: 'packet', protocol: ETH_P_IP, ifindex: raw1.ifindex, hardwareAddress: raw0.address });
  });

  it('bind-mounts a file and unmounts it lazily', () => {
    const dir = tempDir();
    const source = join(dir, 'source');
    const target = join(dir, 'target');
    writeFileSync(source, 'from the source');
    writeFileSync(target, '');
    mount(source, target, null, MS_BIND);
    cleanups.push(() => umount(target, MNT_DETACH));
    expect(readFileSync(target, 'utf8')).toBe('from the source');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${target} `);
    umount(target, MNT_DETACH);
    cleanups.pop();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${target} `);
    expect(() => umount(target)).toThrow(expect.objectContaining({ syscall: 'umount2', tag: 'InvalidArgument', target }));
  });

  it('flock excludes another process, and lets it in after unlock', async () => {
    const path = join(tempDir(), 'lock');
    const fd = openSync(path, 'a+');
    cleanups.push(() => closeSync(fd));
    const tryOther = (...mode: string[]) => spawnSync('flock', [...mode, '-n', path, 'true']).status;
    flock(fd, LOCK_EX);
    expect(tryOther('-x')).toBe(1);
    expect(tryOther('-s')).toBe(1);
    flock(fd, LOCK_SH);
    expect(tryOther('-s')).toBe(0);
    expect(tryOther('-x')).toBe(1);
    flock(fd, LOCK_UN);
    expect(tryOther('-x')).toBe(0);

    // The other way round: a process holds the lock, ours waits without blocking the event loop.
    const holder = spawnSync('sh', ['-c', `flock -x ${JSON.stringify(path)} sleep 0.3 >/dev/null 2>&1 & sleep 0.1`]);
    expect(holder.status).toBe(0);
    const started = Date.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    await flockAsync(fd, LOCK_EX);
    clearInterval(timer);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(ticks).toBeGreaterThan(3);
    flock(fd, LOCK_UN);
  });
});
