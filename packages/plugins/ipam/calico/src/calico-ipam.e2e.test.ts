// SPDX-License-Identifier: Apache-2.0
// The built executable on a real three-member etcd cluster, as several simulated nodes (a
// `nodename` each): what lands in etcd is read back with etcdctl, not with our client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CniCommand, execPlugin, type PluginRunResult } from '@cni/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcd } from './etcd.fixture.ts';
import { EtcdClient } from './lib/etcd.ts';
import { CalicoIpam } from './lib/ipam.ts';
import { createPool, deletePool, listPools, setPoolDisabled } from './lib/pools.ts';

const BIN = process.env['CNI_TEST_CALICO_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/calico-ipam', import.meta.url));
const NETNS = '/run/netns/cnitest-calico-none';

let etcd: EtcdCluster;
let client: EtcdClient;
let lockDir: string;

beforeAll(async () => {
  etcd = await startEtcd({ size: 3 });
  client = new EtcdClient({ endpoints: etcd.endpoints });
  lockDir = mkdtempSync(join(tmpdir(), 'cnitest-calico-locks-'));
}, 60_000);

afterAll(async () => {
  client?.close();
  await etcd?.stop();
  if (lockDir) rmSync(lockDir, { recursive: true, force: true });
});

/** Remove every IPAM key and pool between tests. */
async function wipe(): Promise<void> {
  await client.delete('/calico/', { prefix: true });
}

interface Call {
  command: CniCommand;
  node?: string;
  containerId?: string;
  network?: string;
  ipam?: Record<string, unknown>;
  top?: Record<string, unknown>;
  args?: string;
  prevResult?: unknown;
  endpoints?: string[];
  cniVersion?: string;
}

function conf(call: Call): Record<string, unknown> {
  const node = call.node ?? 'node-0';
  const out: Record<string, unknown> = {
    cniVersion: call.cniVersion ?? '1.1.0',
    name: call.network ?? 'net',
    type: 'calico-ipam',
    datastore_type: 'etcdv3',
    etcd_endpoints: (call.endpoints ?? etcd.endpoints).join(','),
    nodename: node,
    ipam_lock_file: join(lockDir, `${node}.lock`),
    ipam: { type: 'calico-ipam', gc_grace_seconds: 0, ...call.ipam },
    ...call.top,
  };
  if (call.prevResult !== undefined) out['prevResult'] = call.prevResult;
  return out;
}

function cni(call: Call): Promise<PluginRunResult> {
  return execPlugin(BIN, {
    command: call.command,
    ...(call.command === 'GC' || call.command === 'STATUS' ? {} : { containerId: call.containerId ?? 'c0', ifName: 'eth0', netns: NETNS }),
    cniPath: '/nonexistent',
    conf: conf(call),
    ...(call.args === undefined ? {} : { args: call.args }),
  });
}

/** Run `count` tasks, at most `limit` at a time, in order of index; results by index. */
async function inParallel<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        out[index] = await task(index);
      }
    }),
  );
  return out;
}

function ips(run: PluginRunResult): string[] {
  expect(run.error, run.stdout + run.stderr).toBeUndefined();
  expect(run.exitCode, run.stderr).toBe(0);
  return (run.result as { ips: { address: string }[] }).ips.map((ip) => ip.address);
}

/** Every allocated address in etcd, by handle, read with etcdctl. */
async function allocated(): Promise<Map<string, string[]>> {
  const blocks = await etcd.dump('/calico/ipam/v2/assignment/');
  const out = new Map<string, string[]>();
  for (const value of Object.values(blocks)) {
    const block = JSON.parse(value) as { cidr: string; allocations: (number | null)[]; attributes: { handle_id: string }[] };
    const [base] = block.cidr.split('/');
    block.allocations.forEach((attr, ordinal) => {
      if (attr === null) return;
      const handle = block.attributes[attr]!.handle_id;
      const ip = ordinalIp(base!, ordinal);
      out.set(handle, [...(out.get(handle) ?? []), ip]);
    });
  }
  return out;
}

function ordinalIp(base: string, ordinal: number): string {
  if (base.includes(':')) {
    // Tests use IPv6 blocks whose last group has room for the ordinal.
    const parts = base.split('::');
    const tail = parseInt(parts[1] || '0', 16) + ordinal;
    return `${parts[0]}::${tail.toString(16)}`;
  }
  const n = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) + ordinal;
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

describe('calico-ipam on a three-member etcd cluster', () => {
  it('ADD writes Calico keys and values; CHECK passes; DEL releases; DEL again succeeds', async () => {
    await wipe();
    await createPool(client, { name: 'pool-a', cidr: '10.20.0.0/24' });
    const add = await cni({ command: 'ADD', containerId: 'c1' });
    const [address] = ips(add);
    expect(address).toMatch(/^10\.20\.0\.\d+\/26$/);

    const keys = await etcd.dump('/calico/');
    const blockKey = Object.keys(keys).find((k) => k.startsWith('/calico/ipam/v2/assignment/ipv4/block/'))!;
    expect(blockKey).toMatch(/^\/calico\/ipam\/v2\/assignment\/ipv4\/block\/10\.20\.0\.\d+-26$/);
    const cidr = blockKey.split('/').pop()!.replace('-', '/');
    const block = JSON.parse(keys[blockKey]!) as Record<string, unknown>;
    expect(Object.keys(block)).toEqual(['cidr', 'affinity', 'allocations', 'unallocated', 'attributes', 'sequenceNumber', 'sequenceNumberForAllocation', 'deleted']);
    expect(block['cidr']).toBe(cidr);
    expect(block['affinity']).toBe('host:node-0');
    expect((block['allocations'] as unknown[]).length).toBe(64);
    expect((block['unallocated'] as unknown[]).length).toBe(63);
    const attrs = block['attributes'] as { handle_id: string; secondary: Record<string, string> }[];
    expect(attrs).toHaveLength(1);
    expect(attrs[0]!.handle_id).toBe('net.c1');
    expect(attrs[0]!.secondary['node']).toBe('node-0');
    expect(attrs[0]!.secondary['timestamp']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/);
    expect(block['sequenceNumber']).toBe(1);
    expect(JSON.parse(keys[`/calico/ipam/v2/host/node-0/ipv4/block/${cidr.replace('/', '-')}`]!)).toEqual({ state: 'confirmed', deleted: false });
    expect(JSON.parse(keys['/calico/ipam/v2/handle/net.c1']!)).toEqual({ block: { [cidr]: 1 }, deleted: false });
    expect(await allocated()).toEqual(new Map([['net.c1', [address!.split('/')[0]]]]));

    const check = await cni({ command: 'CHECK', containerId: 'c1', prevResult: add.result });
    expect(check.exitCode, check.stdout).toBe(0);
    const badCheck = await cni({ command: 'CHECK', containerId: 'c1', prevResult: { cniVersion: '1.1.0', ips: [{ address: '10.20.0.250/26' }] } });
    expect(badCheck.error?.msg).toMatch(/10\.20\.0\.250\/26 of prevResult is not allocated to handle net\.c1/);

    expect((await cni({ command: 'DEL', containerId: 'c1' })).exitCode).toBe(0);
    expect(await allocated()).toEqual(new Map());
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/handle/'))).toEqual([]);
    // The affine block stays for the node's next pod, as Calico keeps it.
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/assignment/'))).toHaveLength(1);
    expect((await cni({ command: 'DEL', containerId: 'c1' })).exitCode).toBe(0);
    expect((await cni({ command: 'DEL', containerId: 'never-added' })).exitCode).toBe(0);
    const check2 = await cni({ command: 'CHECK', containerId: 'c1', prevResult: add.result });
    expect(check2.error?.msg).toMatch(/no address allocated to handle net\.c1/);
  });

  it('10 nodes x 50 ADDs at once: 500 distinct addresses, blocks without conflict, none lost', async () => {
    await wipe();
    await createPool(client, { name: 'big', cidr: '10.30.0.0/16' });
    // Nodes interleaved, 40 plugin processes at a time on this small machine: every node has
    // several ADDs in flight at any moment, racing the others for blocks.
    const runs = await inParallel(500, 40, (i) => cni({ command: 'ADD', node: `node-${i % 10}`, containerId: `p${i}` }));
    const addresses = runs.map((run) => ips(run)[0]!.split('/')[0]!);
    expect(new Set(addresses).size).toBe(500);
    const stored = await allocated();
    expect(stored.size).toBe(500);
    runs.forEach((_, i) => expect(stored.get(`net.p${i}`)).toEqual([addresses[i]]));
    // Each node has its own blocks, and every block is affine to exactly one node.
    const affinities = Object.keys(await etcd.dump('/calico/ipam/v2/host/'));
    const blocks = await etcd.dump('/calico/ipam/v2/assignment/');
    expect(affinities).toHaveLength(Object.keys(blocks).length);
    for (const [key, value] of Object.entries(blocks)) {
      const block = JSON.parse(value) as { affinity: string; attributes: { secondary: { node: string } }[] };
      const node = block.affinity.slice(5);
      expect(affinities).toContain(`/calico/ipam/v2/host/${node}/ipv4/block/${key.split('/').pop()}`);
      for (const attr of block.attributes) expect(attr.secondary.node).toBe(node);
    }
    const dels = await inParallel(500, 40, (i) => cni({ command: 'DEL', node: `node-${i % 10}`, containerId: `p${i}` }));
    for (const del of dels) expect(del.exitCode, del.stdout).toBe(0);
    expect((await allocated()).size).toBe(0);
  }, 180_000);
});
