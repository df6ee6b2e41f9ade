// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIp } from '@cni/ip';
import { afterEach, describe, expect, it } from 'vitest';
import { HostLocalAllocator } from './allocator.ts';
import { canonicalizeRangeSet } from './range-set.ts';
import { DiskStore } from './store.ts';

const dirs: string[] = [];
const stores: DiskStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(network = 'net'): { dataDir: string; dir: string; store: DiskStore; allocator: HostLocalAllocator } {
  const dataDir = mkdtempSync(join(tmpdir(), 'hostlocal-unit-'));
  dirs.push(dataDir);
  const store = DiskStore.open(dataDir, network);
  stores.push(store);
  return { dataDir, dir: join(dataDir, network), store, allocator: new HostLocalAllocator(store) };
}

const small = [canonicalizeRangeSet([{ subnet: '10.1.2.0/29' }])];

describe('HostLocalAllocator', () => {
  it('writes upstream layout: a file per address, last_reserved_ip.N, lock', async () => {
    const { dir, allocator } = setup();
    const [first] = await allocator.allocate(small, [], 'c1', 'eth0');
    expect(first).toMatchObject({ address: '10.1.2.2/29', gateway: '10.1.2.1' });
    expect(readdirSync(dir).sort()).toEqual(['.cni-index', '10.1.2.2', 'last_reserved_ip.0', 'lock']);
    expect(readFileSync(join(dir, '10.1.2.2'), 'utf8')).toBe('c1\r\neth0');
    expect(readFileSync(join(dir, 'last_reserved_ip.0'), 'utf8')).toBe('10.1.2.2');
  });

  it('allocates round robin, refuses duplicates, and reports exhaustion with upstream text', async () => {
    const { allocator } = setup();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await allocator.allocate(small, [], `c${i}`, 'eth0'))[0]!.address);
    expect(got).toEqual(['10.1.2.2/29', '10.1.2.3/29', '10.1.2.4/29', '10.1.2.5/29', '10.1.2.6/29']);
    await expect(allocator.allocate(small, [], 'c0', 'eth0')).rejects.toThrow(
      'failed to allocate for range 0: 10.1.2.2 has been allocated to c0, duplicate allocation is not allowed',
    );
    await expect(allocator.allocate(small, [], 'c9', 'eth0')).rejects.toThrow(
      'failed to allocate for range 0: no IP addresses available in range set: 10.1.2.1-10.1.2.6',
    );
    await allocator.release('c1', 'eth0');
    // Round robin continues after the last reserved address, wrapping to the freed one.
    expect((await allocator.allocate(small, [], 'c9', 'eth0'))[0]!.address).toBe('10.1.2.3/29');
  });

  it('reserves requested addresses exactly and rolls back on failure', async () => {
    const { dir, allocator } = setup();
    const sets = [canonicalizeRangeSet([{ subnet: '10.1.2.0/29' }]), canonicalizeRangeSet([{ subnet: '2001:db8::/125' }])];
    const got = await allocator.allocate(sets, [parseIp('2001:db8::5')], 'c1', 'eth0');
    expect(got.map((a) => a.address)).toEqual(['10.1.2.2/29', '2001:db8::5/125']);
    await expect(allocator.allocate(sets, [parseIp('10.1.2.1')], 'c2', 'eth0')).rejects.toThrow(
      'failed to allocate for range 0: requested ip 10.1.2.1 is subnet\'s gateway',
    );
    await expect(allocator.allocate(sets, [parseIp('2001:db8::5')], 'c2', 'eth0')).rejects.toThrow(
      'failed to allocate for range 1: requested IP address 2001:db8::5 is not available in range set 2001:db8::1-2001:db8::7',
    );
    await expect(allocator.allocate(sets, [parseIp('192.168.0.1')], 'c2', 'eth0')).rejects.toThrow(
      'failed to allocate all requested IPs: 192.168.0.1',
    );
    // Nothing of c2 stayed behind.
    expect(readdirSync(dir).filter((f) => f !== 'lock' && !f.startsWith('last_') && !f.startsWith('.')).sort()).toEqual(['10.1.2.2', '2001:db8::5']);
  });

  it('releases legacy files holding only the container ID, and sees files other processes wrote', async () => {
    const { dir, allocator } = setup();
    await allocator.allocate(small, [], 'c1', 'eth0');
    writeFileSync(join(dir, '10.1.2.5'), 'legacy');
    writeFileSync(join(dir, '10.1.2.6'), 'other\r\neth1');
    expect((await allocator.owned('legacy', 'eth0')).map((l) => l.file)).toEqual(['10.1.2.5']);
    expect((await allocator.release('legacy', 'eth0')).map((l) => l.file)).toEqual(['10.1.2.5']);
    // 10.1.2.6 is taken by a file the index learnt from the folder: skip it.
    expect((await allocator.allocate(small, [parseIp('10.1.2.6')], 'c2', 'eth0').catch((e: Error) => e.message))).toMatch(/not available/);
    expect(await allocator.release('nobody', 'eth0')).toEqual([]);
  });

  it('garbage-collects leases of attachments not listed, and crashed writers\' temporary files', async () => {
    const { dir, allocator } = setup();
    await allocator.allocate(small, [], 'keep', 'eth0');
    await allocator.allocate(small, [], 'drop', 'eth0');
    await allocator.allocate(small, [], 'keep', 'eth1');
    writeFileSync(join(dir, '.cni-tmp-1-1'), 'x\r\ny');
    writeFileSync(join(dir, '10.1.2.6'), 'keep');
    const released = await allocator.gc([{ containerId: 'keep', ifName: 'eth0' }]);
    expect(released.map((l) => l.file).sort()).toEqual(['10.1.2.3', '10.1.2.4']);
    expect(readdirSync(dir).sort()).toEqual(['.cni-index', '10.1.2.2', '10.1.2.6', 'last_reserved_ip.0', 'lock']);
  });

  it('counts free addresses per range set', async () => {
    const { allocator } = setup();
    expect(await allocator.free(small)).toEqual([5n]);
    for (let i = 0; i < 5; i++) await allocator.allocate(small, [], `c${i}`, 'eth0');
    expect(await allocator.free(small)).toEqual([0n]);
  });

  it('lets a fresh store read the journal, and distrusts it once another writer changed the folder', async () => {
    const { dataDir, dir, allocator } = setup();
    await allocator.allocate(small, [], 'c1', 'eth0');
    await allocator.allocate(small, [], 'c2', 'eth0');
    await allocator.release('c1', 'eth0');
    const journal = readFileSync(join(dir, '.cni-index'), 'utf8');
    expect(journal).toMatch(/^cni-hostlocal-index 1\n/);
    expect(journal).toContain('+10.1.2.3\t"c2\\r\\neth0"');
    expect(journal).toContain('-10.1.2.2');
    const fresh = DiskStore.open(dataDir, 'net');
    stores.push(fresh);
    expect((await new HostLocalAllocator(fresh).owned('c2', 'eth0')).map((l) => l.ip.toString())).toEqual(['10.1.2.3']);
    // Another writer (upstream's binary) adds a lease: the folder's stamp moves, the journal is set aside.
    writeFileSync(join(dir, '10.1.2.6'), 'go\r\neth0');
    const other = DiskStore.open(dataDir, 'net');
    stores.push(other);
    expect((await new HostLocalAllocator(other).owned('go', 'eth0')).map((l) => l.file)).toEqual(['10.1.2.6']);
    // A damaged journal is read around too.
    writeFileSync(join(dir, '.cni-index'), 'garbage');
    const third = DiskStore.open(dataDir, 'net');
    stores.push(third);
    expect((await new HostLocalAllocator(third).owned('go', 'eth0')).map((l) => l.file)).toEqual(['10.1.2.6']);
    expect(readFileSync(join(dir, '.cni-index'), 'utf8')).toMatch(/^cni-hostlocal-index 1\n/);
  });

  it('keeps the store inside its folder', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hostlocal-unit-'));
    dirs.push(dataDir);
    expect(() => DiskStore.open(dataDir, '../x')).toThrow('invalid network name');
    expect(() => DiskStore.open(dataDir, '..')).toThrow('invalid network name');
  });

  it('refuses owners that would forge the file\'s two lines', async () => {
    const { allocator } = setup();
    await expect(allocator.allocate(small, [], 'a\r\nb', 'eth0')).rejects.toThrow('invalid attachment');
  });

  it('serialises concurrent allocations of one process', async () => {
    const { allocator } = setup();
    const sets = [canonicalizeRangeSet([{ subnet: '10.9.0.0/24' }])];
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => allocator.allocate(sets, [], `c${i}`, 'eth0')));
    expect(new Set(got.map((a) => a[0]!.address)).size).toBe(40);
  });
});
