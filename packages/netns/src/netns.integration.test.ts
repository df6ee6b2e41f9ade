// SPDX-License-Identifier: Apache-2.0
// Root only. Every namespace is made per test and removed when it ends, passed or failed; the
// state is read back through iproute2 and /proc, never through this package.
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AF_INET, SOCK_DGRAM, close, createSocket, getsockname, sendTo } from '@cni/sys';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetnsError, NetnsExistsError, NetnsNotFoundError, NotANetnsError } from './errors.ts';
import { createNetns, deleteNetns, getCurrentNetns, isNetns, isSameNetns, openNetns, withNetns } from './netns.ts';
import { inIpNetns, ip, ipNetnsNames, makeIpNetns, removeWhenDone, uniqueName } from './testing/ip-netns.ts';

const threadNetns = () => readlinkSync('/proc/thread-self/ns/net');

/**
 * Interface names in /proc/thread-self/net/dev, which shows the namespace of the reading thread
 * (/proc/net is /proc/self/net: the main thread's, whichever thread reads it).
 */
function devices(text = readFileSync('/proc/thread-self/net/dev', 'utf8')): string[] {
  return text
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => line.split(':')[0]!.trim());
}

describe.skipIf(process.getuid?.() !== 0)('named namespaces as root', () => {
  it('createNetns makes a namespace iproute2 lists and enters, and deleteNetns removes it', () => {
    const before = threadNetns();
    const name = removeWhenDone(uniqueName());
    const netns = createNetns(name);
    onTestFinished(() => netns.close());
    expect(threadNetns()).toBe(before);
    expect(netns.path).toBe(`/var/run/netns/${name}`);
    expect(ipNetnsNames()).toContain(name);
    // The namespace is new: only lo, and a different inode from ours.
    const links = JSON.parse(ip('-j', '-n', name, 'link', 'show')) as { ifname: string }[];
    expect(links.map((link) => link.ifname)).toEqual(['lo']);
    expect(statSync(netns.path).ino).not.toBe(statSync('/proc/self/ns/net').ino);
    expect(inIpNetns(name, 'readlink', '/proc/self/ns/net').trim()).toBe(`net:[${statSync(netns.path).ino}]`);
    expect(execFileSync('findmnt', ['-n', '-o', 'PROPAGATION', '/run/netns'], { encoding: 'utf8' }).trim()).toBe('shared');

    deleteNetns(name);
    expect(ipNetnsNames()).not.toContain(name);
    expect(existsSync(netns.path)).toBe(false);
    // The open handle keeps the namespace alive after its name is gone.
    expect(withNetns(netns, () => devices())).toEqual(['lo']);
  });

  it('createNetns makes a run directory that is not a mount point yet into a shared one, as iproute2 does', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'cni-netns-run-'));
    onTestFinished(() => {
      // Undo in reverse: the namespace's mount, the directory's own bind mount, the directory.
      for (const path of [join(runDir, 'c1'), runDir]) spawnSync('umount', ['-l', path]);
      rmSync(runDir, { recursive: true, force: true });
    });
    using netns = createNetns('c1', { runDir });
    expect(netns.path).toBe(join(runDir, 'c1'));
    expect(execFileSync('findmnt', ['-n', '-o', 'PROPAGATION', runDir], { encoding: 'utf8' }).trim()).toBe('shared');
    const links = JSON.parse(execFileSync('nsenter', [`--net=${netns.path}`, 'ip', '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
    expect(links.map((link) => link.ifname)).toEqual(['lo']);
    deleteNetns('c1', { runDir });
    expect(existsSync(join(runDir, 'c1'))).toBe(false);
  });

  it('createNetns refuses a taken name and leaves that namespace alone', () => {
    const name = makeIpNetns();
    ip('-n', name, 'link', 'add', 'keep0', 'type', 'veth', 'peer', 'name', 'keep1');
    expect(() => createNetns(name)).toThrow(NetnsExistsError);
    expect(ip('-n', name, '-j', 'link', 'show', 'keep0')).toContain('keep0');
  });

  it('createNetns and deleteNetns refuse bad names', () => {
    for (const name of ['', '.', '..', 'a/b']) expect(() => createNetns(name)).toThrow(/invalid netns name/);
    expect(() => deleteNetns('..')).toThrow(/invalid netns name/);
  });

  it('deleteNetns of a missing name throws NetnsNotFoundError', () => {
    expect(() => deleteNetns(uniqueName('cni-missing'))).toThrow(NetnsNotFoundError);
    expect(() => deleteNetns('/var/run/netns/cni-missing-x')).toThrow('failed to delete netns "/var/run/netns/cni-missing-x": no such file or directory');
  });

  it('deleteNetns removes a namespace iproute2 made, by path', () => {
    const name = makeIpNetns();
    deleteNetns(`/var/run/netns/${name}`);
    expect(ipNetnsNames()).not.toContain(name);
  });

  it('openNetns validates what iproute2 made, and refuses what is not a namespace', () => {
    const name = makeIpNetns();
    using netns = openNetns(`/var/run/netns/${name}`);
    expect(isNetns(netns.path)).toBe(true);
    expect(() => openNetns('/var/run/netns/' + uniqueName('cni-missing'))).toThrow(NetnsNotFoundError);
    expect(() => openNetns('/etc/hostname')).toThrow(NotANetnsError);
  });
});

describe.skipIf(process.getuid?.() !== 0)('withNetns as root', () => {
  it('runs the callback in the namespace and comes back', () => {
    const name = makeIpNetns();
    ip('-n', name, 'link', 'add', 'inside0', 'type', 'veth', 'peer', 'name', 'inside1');
    const before = threadNetns();
    const seen = withNetns(`/var/run/netns/${name}`, () => ({ devices: devices(), netns: threadNetns() }));
    expect(seen.devices.sort()).toEqual(['inside0', 'inside1', 'lo']);
    expect(seen.netns).toBe(`net:[${statSync(`/var/run/netns/${name}`).ino}]`);
    expect(threadNetns()).toBe(before);
    expect(devices()).not.toContain('inside0');
  });

  it('comes back when the callback throws', () => {
    const name = makeIpNetns();
    const before = threadNetns();
    expect(() =>
      withNetns(`/var/run/netns/${name}`, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(threadNetns()).toBe(before);
  });

  it('refuses a callback that returns a promise, after coming back', async () => {
    const name = makeIpNetns();
    using netns = openNetns(`/var/run/netns/${name}`);
    const before = threadNetns();
    // The measured trap this guards against: the thread pool reads in the host namespace.
    let asyncRead: Promise<string> | undefined;
    expect(() =>
      withNetns(netns, async () => {
        asyncRead = readFile('/proc/thread-self/net/dev', 'utf8');
        return 1;
      }),
    ).toThrow(NetnsError);
    expect(() => withNetns(netns, () => Promise.reject(new Error('late')))).toThrow(/must be synchronous/);
    expect(threadNetns()).toBe(before);
    expect(devices(await asyncRead!)).toEqual(devices());
  });

  it('nests, each level restoring the one around it', () => {
    const outer = makeIpNetns();
    const inner = makeIpNetns();
    ip('-n', outer, 'link', 'add', 'outer0', 'type', 'veth', 'peer', 'name', 'outer1');
    ip('-n', inner, 'link', 'add', 'inner0', 'type', 'veth', 'peer', 'name', 'inner1');
    const seen = withNetns(`/var/run/netns/${outer}`, () => {
      const nested = withNetns(`/var/run/netns/${inner}`, () => devices());
      return { nested, after: devices() };
    });
    expect(seen.nested).toContain('inner0');
    expect(seen.after).toContain('outer0');
    expect(seen.after).not.toContain('inner0');
  });

  it('getCurrentNetns inside names the namespace entered', () => {
    const name = makeIpNetns();
    const inode = withNetns(`/var/run/netns/${name}`, () => {
      using current = getCurrentNetns();
      return statSync(current.path).ino;
    });
    expect(inode).toBe(statSync(`/var/run/netns/${name}`).ino);
    const same = withNetns(`/var/run/netns/${name}`, () => isSameNetns('/proc/thread-self/ns/net', `/var/run/netns/${name}`));
    expect(same).toBe(true);
    expect(isSameNetns('/proc/thread-self/ns/net', `/var/run/netns/${name}`)).toBe(false);
  });

  it('a socket made inside stays there and can be handed to dgram', async () => {
    const name = makeIpNetns();
    ip('-n', name, 'link', 'set', 'lo', 'up');
    const [receiver, sender] = withNetns(`/var/run/netns/${name}`, () => [
      createSocket({ domain: AF_INET, type: SOCK_DGRAM, reuseAddress: true, bindToDevice: 'lo', bind: { family: 'inet', address: '127.0.0.1', port: 0 } }),
      createSocket({ domain: AF_INET, type: SOCK_DGRAM }),
    ]) as [number, number];
    onTestFinished(() => close(sender));
    const address = getsockname(receiver);
    if (address?.family !== 'inet') throw new Error('no address');
    expect(inIpNetns(name, 'ss', '-Hnul', `sport = :${address.port}`)).toContain(`127.0.0.1%lo:${address.port}`);
    expect(execFileSync('ss', ['-Hnul', `sport = :${address.port}`], { encoding: 'utf8' })).not.toContain(`:${address.port}`);

    const socket = dgram.createSocket('udp4');
    onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    await new Promise<void>((resolve) => socket.bind({ fd: receiver } as dgram.BindOptions, resolve));
    const message = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    sendTo(sender, Buffer.from('offer'), address);
    expect((await message).toString()).toBe('offer');
  });
});
