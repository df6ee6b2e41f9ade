// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { LeakError } from './errors.ts';
import { addBridge, addVethPair } from './links.ts';
import { useTestNetns } from './netns.ts';
import { readAddressList, readLink, readLinks, readRoutes } from './readers.ts';

describe.skipIf(process.getuid?.() !== 0)('useTestNetns', () => {
  it('makes a host and a container namespace with loopback up', async () => {
    const netns = await useTestNetns();
    for (const ns of [netns.host, netns.container]) {
      expect(existsSync(ns.path)).toBe(true);
      const links = await readLinks(ns);
      expect(links.map((link) => link.ifname)).toEqual(['lo']);
      expect(links[0]?.flags).toContain('UP');
    }
    expect(existsSync(netns.dir)).toBe(true);
  });

  it('gives the host namespace default routes through an uplink whose gateway answers', async () => {
    const netns = await useTestNetns({ defaultRoute: true, container: false });
    const routes4 = await readRoutes(netns.host, { family: 4 });
    expect(routes4).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '192.0.2.254', dev: 'uplink0' }));
    const routes6 = await readRoutes(netns.host, { family: 6 });
    expect(routes6).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '2001:db8:ffff::fe', dev: 'uplink0' }));
    await netns.execHost(['ping', '-c', '1', '-W', '2', '192.0.2.254']);
  });

  it('connects host and container with a veth pair', async () => {
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'veth-h' }, { ns: netns.container, name: 'eth0' }, { addresses: ['10.9.0.1/24'], peerAddresses: ['10.9.0.2/24'] });
    expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.9.0.2/24']);
    expect((await readLink(netns.host, 'veth-h'))?.linkinfo?.info_kind).toBe('veth');
    await netns.execContainer(['ping', '-c', '1', '-W', '2', '10.9.0.1']);
  });

  it('finds what a test left in its namespaces', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot([netns.dir]);
    await addBridge(netns.host, 'br-leak', { addresses: ['10.8.0.1/24'] });
    await netns.execHost(['nft', 'add', 'table', 'inet', 'leaky']);
    await netns.execHost(['iptables', '-t', 'nat', '-N', 'LEAKY']);
    const error = await netns.expectNoLeaks(before).catch((caught: unknown) => caught);
    expect(LeakError.isInstance(error)).toBe(true);
    const leaks = (error as LeakError).leaks.join('\n');
    expect(leaks).toContain('links: br-leak bridge');
    expect(leaks).toContain('addresses: br-leak 10.8.0.1/24');
    expect(leaks).toContain('nftTables: inet leaky');
    expect(leaks).toContain('iptablesChains: iptables nat LEAKY');
  });
});

describe.skipIf(process.getuid?.() !== 0)('setSysctl', () => {
  it('writes a sysctl of the test host namespace only', async () => {
    const { setSysctl, readSysctl } = await import('./links.ts');
    const netns = await useTestNetns();
    await setSysctl(netns.host, 'net.ipv4.ip_forward', 1);
    expect(await readSysctl(netns.host, 'net.ipv4.ip_forward')).toBe('1');
    expect(await readSysctl(netns.container, 'net.ipv4.ip_forward')).toBe('0');
  });
});

describe.skipIf(process.getuid?.() !== 0)('useTestNetns in beforeEach', () => {
  let netns: Awaited<ReturnType<typeof useTestNetns>>;
  const seen: string[] = [];
  beforeEach(async () => {
    netns = await useTestNetns({ container: false });
  });

  it('gives the test its namespace', () => {
    seen.push(netns.host.path);
    expect(existsSync(netns.host.path)).toBe(true);
  });

  it('removed the previous test one', () => {
    expect(seen).toHaveLength(1);
    expect(existsSync(seen[0] ?? '')).toBe(false);
    expect(netns.host.path).not.toBe(seen[0]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('the leak check of the machine', () => {
  it('reports a file a test left in a watched folder of the machine', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { findLeaks, takeSnapshot } = await import('./snapshot.ts');
    const watched = await mkdtemp(join(tmpdir(), 'cnitest-watched-'));
    try {
      const before = await takeSnapshot({ namespaces: [null], files: [watched] });
      await writeFile(join(watched, 'last_reserved_ip.0'), '10.0.0.2');
      expect(await findLeaks(before)).toEqual([`file: ${join(watched, 'last_reserved_ip.0')}`]);
    } finally {
      await rm(watched, { recursive: true, force: true });
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('checkpoint', () => {
  it('fails the test at its end when the namespaces gained something after the checkpoint', async () => {
    const { registerTeardown } = await import('./cleanup.ts');
    // onTestFinished handlers run in reverse order: this one, registered first, runs last and sees
    // what the fixture's teardown threw (caught by the context below, so the test itself passes).
    let teardownError: unknown;
    registerTeardown(() => {
      expect(LeakError.isInstance(teardownError)).toBe(true);
      expect((teardownError as LeakError).leaks).toEqual([expect.stringContaining('links: br-leaked bridge')]);
    });
    const netns = await useTestNetns({
      context: {
        onTestFinished: (fn) =>
          registerTeardown(async () => {
            teardownError = await Promise.resolve(fn({} as never)).then(() => undefined, (error: unknown) => error);
          }),
      },
    });
    await addBridge(netns.host, 'br-setup');
    await netns.checkpoint({ ignore: ['br-ignored'] });
    await addBridge(netns.host, 'br-ignored');
    await addBridge(netns.host, 'br-leaked');
  });
});
