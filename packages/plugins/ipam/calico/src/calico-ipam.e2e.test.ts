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
    // A loaded 2-core machine running hundreds of these can take long; a kill is not the plugin's doing.
    timeoutMs: 180_000,
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

  it.skipIf(process.env['CALICO_QUICK'])('10 nodes x 50 ADDs at once: 500 distinct addresses, blocks without conflict, none lost', async () => {
    await wipe();
    await createPool(client, { name: 'big', cidr: '10.30.0.0/16' });
    // Nodes interleaved, 24 plugin processes at a time on this small machine: every node has
    // several ADDs in flight at any moment, racing the others for blocks.
    const runs = await inParallel(500, 24, (i) => cni({ command: 'ADD', node: `node-${i % 10}`, containerId: `p${i}` }));
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
    // Release through the library (DEL through the executable is proven above and below): the
    // test's time goes to the concurrent ADDs.
    await inParallel(500, 20, (i) => new CalicoIpam(client, `node-${i % 10}`).releaseByHandle(`net.p${i}`));
    expect((await allocated()).size).toBe(0);
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/handle/'))).toEqual([]);
  }, 600_000);

  it.skipIf(process.env['CALICO_QUICK'])('10 nodes x 32 ADDs into pools holding exactly 320 addresses: all given, none twice; the next fails clearly', async () => {
    await wipe();
    // 256 + 64 addresses in /28 blocks: nodes claim blocks as they go and borrow the rest.
    await createPool(client, { name: 'exact-a', cidr: '10.40.0.0/24', blockSize: 28 });
    await createPool(client, { name: 'exact-b', cidr: '10.41.0.0/26', blockSize: 28 });
    const runs = await inParallel(320, 24, (i) => cni({ command: 'ADD', node: `node-${i % 10}`, containerId: `x${i}` }));
    const addresses = runs.map((run) => ips(run)[0]!.split('/')[0]!);
    expect(new Set(addresses).size).toBe(320);
    expect((await allocated()).size).toBe(320);
    const full = await cni({ command: 'ADD', node: 'node-3', containerId: 'one-too-many' });
    expect(full.error?.code).toBe(999);
    expect(full.error?.msg).toMatch(/no IPv4 address available in pools exact-a \(10\.40\.0\.0\/24\), exact-b \(10\.41\.0\.0\/26\)/);
    const status = await cni({ command: 'STATUS' });
    expect(status.error?.code).toBe(50);
    expect(status.error?.msg).toMatch(/IPv4 pools exhausted/);
    expect(await allocated()).not.toContain('net.one-too-many');
  }, 600_000);
});

describe('calico-ipam: configuration, requested addresses, dual stack, pools, GC, STATUS', () => {
  it('refuses keys of the wrong type with code 7 naming key, type and value, before any etcd write', async () => {
    await wipe();
    const cases: [Call, RegExp][] = [
      [{ command: 'ADD', ipam: { assign_ipv4: 5 } }, /invalid ipam\.assign_ipv4 5, must be the string "true" or "false"/],
      [{ command: 'ADD', ipam: { ipv4_pools: 'pool-a' } }, /invalid ipam\.ipv4_pools "pool-a", must be a list of pool names or CIDRs/],
      [{ command: 'ADD', ipam: { ipv6_pools: [7] } }, /invalid ipam\.ipv6_pools\[0\] 7, must be a pool name or CIDR/],
      [{ command: 'ADD', top: { etcd_endpoints: 42 } }, /invalid etcd_endpoints 42, must be a string/],
      [{ command: 'ADD', top: { etcd_endpoints: 'ftp://x' } }, /invalid etcd_endpoints "ftp:\/\/x"/],
      [{ command: 'ADD', top: { nodename: ['a'] } }, /invalid nodename \["a"\], must be a string/],
      [{ command: 'ADD', top: { nodename_file_optional: 'yes' } }, /invalid nodename_file_optional "yes", must be a boolean/],
      [{ command: 'ADD', top: { datastore_type: 'kubernetes' } }, /datastore_type "kubernetes" is not supported by this calico-ipam: the supported datastore is "etcdv3"/],
      [{ command: 'ADD', top: { etcd_cert_file: '/x.crt' } }, /etcd_cert_file and etcd_key_file go together/],
      [{ command: 'ADD', top: { runtimeConfig: { ips: '10.0.0.1' } } }, /invalid runtimeConfig\.ips "10\.0\.0\.1", must be a list of IP addresses/],
      [{ command: 'ADD', args: 'IP=not-an-ip' }, /invalid CNI_ARGS IP "not-an-ip", must be an IP address/],
      [{ command: 'ADD', ipam: { assign_ipv4: 'false' } }, /both "false": nothing to assign/],
      [{ command: 'DEL', ipam: { gc_grace_seconds: '1m' } }, /invalid ipam\.gc_grace_seconds "1m", must be a number of seconds >= 0/],
    ];
    for (const [call, message] of cases) {
      const run = await cni(call);
      expect(run.exitCode, JSON.stringify(call)).toBe(1);
      expect(run.error?.code, run.stdout).toBe(7);
      expect(run.error?.msg).toMatch(message);
    }
    expect(await etcd.dump('/calico/')).toEqual({});
  });

  it('gives requested addresses (runtimeConfig.ips, CNI_ARGS IP), refuses a taken one and one outside the pools', async () => {
    await wipe();
    await createPool(client, { name: 'pool-a', cidr: '10.50.0.0/24' });
    const a = await cni({ command: 'ADD', containerId: 'r1', top: { runtimeConfig: { ips: ['10.50.0.77/24'] } } });
    expect(ips(a)).toEqual(['10.50.0.77/32']);
    const b = await cni({ command: 'ADD', node: 'node-1', containerId: 'r2', args: 'IgnoreUnknown=1;IP=10.50.0.78' });
    expect(ips(b)).toEqual(['10.50.0.78/32']);
    const taken = await cni({ command: 'ADD', node: 'node-1', containerId: 'r3', args: 'IP=10.50.0.77' });
    expect(taken.error?.msg).toMatch(/10\.50\.0\.77 is already in use \(handle net\.r1\)/);
    const outside = await cni({ command: 'ADD', containerId: 'r4', args: 'IP=192.0.2.1' });
    expect(outside.error?.code).toBe(7);
    expect(outside.error?.msg).toMatch(/192\.0\.2\.1 is not in any configured pool/);
    const stored = await allocated();
    expect(stored.get('net.r1')).toEqual(['10.50.0.77']);
    expect(stored.get('net.r2')).toEqual(['10.50.0.78']);
    expect(stored.size).toBe(2);
  });

  it('dual stack: one address per family; a half-successful allocation is rolled back', async () => {
    await wipe();
    await createPool(client, { name: 'v4', cidr: '10.60.0.0/24' });
    await createPool(client, { name: 'v6', cidr: 'fd00:60::/122', blockSize: 126 });
    const ds = { assign_ipv6: 'true' };
    const add = await cni({ command: 'ADD', containerId: 'd1', ipam: ds });
    const [v4, v6] = ips(add);
    expect(v4).toMatch(/^10\.60\.0\.\d+\/26$/);
    expect(v6).toMatch(/^fd00:60::([0-9a-f]+)?\/126$/);
    const keys = Object.keys(await etcd.dump('/calico/ipam/v2/assignment/ipv6/'));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^\/calico\/ipam\/v2\/assignment\/ipv6\/block\/fd00:60::([0-9a-f]{1,2})?-126$/);
    expect((await cni({ command: 'CHECK', containerId: 'd1', ipam: ds, prevResult: add.result })).exitCode).toBe(0);
    // Exhaust IPv6 (64 addresses, 16 blocks of 4) through the library, then ask for both families.
    const lib = new CalicoIpam(client, 'filler');
    for (let i = 0; i < 63; i++) await lib.autoAssign({ family: 6, handleId: `fill.${i}`, attrs: { node: 'filler' } });
    const before = await allocated();
    const half = await cni({ command: 'ADD', containerId: 'd2', ipam: ds });
    expect(half.error?.msg).toMatch(/no IPv6 address available in pool v6/);
    const after = await allocated();
    expect(after.has('net.d2')).toBe(false);
    expect(after.size).toBe(before.size);
    expect(await etcd.dump('/calico/ipam/v2/handle/net.d2')).toEqual({});
  }, 120_000);

  it('a pool disabled while in use: its addresses stay and are released; new ADDs go elsewhere; its empty blocks go', async () => {
    await wipe();
    await createPool(client, { name: 'old', cidr: '10.70.0.0/24' });
    const first = ips(await cni({ command: 'ADD', containerId: 'o1' }))[0]!;
    expect(first).toMatch(/^10\.70\./);
    await setPoolDisabled(client, 'old', true);
    const none = await cni({ command: 'ADD', containerId: 'o2' });
    expect(none.error?.code).toBe(7);
    expect(none.error?.msg).toMatch(/no enabled IPv4 pool \(pools: old \(disabled\)\)/);
    await createPool(client, { name: 'new', cidr: '10.71.0.0/24' });
    expect(ips(await cni({ command: 'ADD', containerId: 'o2' }))[0]).toMatch(/^10\.71\./);
    const asked = await cni({ command: 'ADD', containerId: 'o3', ipam: { ipv4_pools: ['old'] } });
    expect(asked.error?.msg).toMatch(/the requested pool old \(10\.70\.0\.0\/24\) is disabled/);
    expect((await cni({ command: 'CHECK', containerId: 'o1', prevResult: { cniVersion: '1.1.0', ips: [{ address: first }] } })).exitCode).toBe(0);
    expect((await cni({ command: 'DEL', containerId: 'o1' })).exitCode).toBe(0);
    // The disabled pool's block, empty now, is gone with its affinity.
    const left = Object.keys(await etcd.dump('/calico/ipam/v2/'));
    expect(left.filter((k) => k.includes('10.70.'))).toEqual([]);
    expect(left.filter((k) => k.includes('10.71.'))).toHaveLength(2);
  });

  it('borrows from another node\'s block when its own are full; with strict affinity it does not', async () => {
    await wipe();
    // 4 blocks of 4 addresses; at most one block per node.
    await createPool(client, { name: 'small', cidr: '10.80.0.0/28', blockSize: 30 });
    await new CalicoIpam(client, '').setConfig({ strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 1 });
    for (let i = 0; i < 4; i++) ips(await cni({ command: 'ADD', node: 'node-a', containerId: `a${i}` }));
    ips(await cni({ command: 'ADD', node: 'node-b', containerId: 'b0' }));
    const borrowed = await cni({ command: 'ADD', node: 'node-a', containerId: 'a4' });
    const [ip] = ips(borrowed);
    const blocks = await etcd.dump('/calico/ipam/v2/assignment/');
    const holder = Object.values(blocks).map((v) => JSON.parse(v) as { cidr: string; affinity: string; attributes: { handle_id: string; secondary: { node: string } }[] }).find((b) => b.attributes.some((a) => a.handle_id === 'net.a4'))!;
    expect(holder.affinity).toBe('host:node-b');
    expect(holder.attributes.find((a) => a.handle_id === 'net.a4')!.secondary.node).toBe('node-a');
    expect(ip).toMatch(/^10\.80\.0\.\d+\/30$/);

    await new CalicoIpam(client, '').setConfig({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 1 });
    const strict = await cni({ command: 'ADD', node: 'node-a', containerId: 'a5' });
    expect(strict.error?.msg).toMatch(/no IPv4 address available in pool small .*strict affinity: no borrowing/);
    await client.delete('/calico/ipam/v2/config');
  });

  it('GC releases this node\'s handles of this network that are not valid attachments, after the grace period; then empty blocks', async () => {
    await wipe();
    await createPool(client, { name: 'gc', cidr: '10.90.0.0/24' });
    for (const id of ['g1', 'g2', 'g3']) ips(await cni({ command: 'ADD', containerId: id }));
    ips(await cni({ command: 'ADD', containerId: 'other-net', network: 'net2' }));
    ips(await cni({ command: 'ADD', node: 'node-9', containerId: 'elsewhere' }));
    const valid = { 'cni.dev/valid-attachments': [{ containerID: 'g1', ifname: 'eth0' }] };
    // Within the grace period nothing goes.
    expect((await cni({ command: 'GC', ipam: { gc_grace_seconds: 3600 }, top: valid })).exitCode).toBe(0);
    expect((await allocated()).size).toBe(5);
    const gc = await cni({ command: 'GC', top: valid });
    expect(gc.exitCode, gc.stdout).toBe(0);
    expect([...(await allocated()).keys()].sort()).toEqual(['net.g1', 'net2.other-net', 'net.elsewhere'].sort());
    // DEL of the last ones, then GC: node-0's block, empty, is released with its affinity.
    await cni({ command: 'DEL', containerId: 'g1' });
    await cni({ command: 'DEL', containerId: 'other-net', network: 'net2' });
    expect((await cni({ command: 'GC', top: { 'cni.dev/valid-attachments': [] } })).exitCode).toBe(0);
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/host/node-0/'))).toEqual([]);
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/host/node-9/'))).toHaveLength(1);
  });

  it('STATUS: ready; code 50 without an enabled pool; etcd unreachable: STATUS 50, ADD fails fast and clearly', async () => {
    await wipe();
    const noPool = await cni({ command: 'STATUS' });
    expect(noPool.error?.code).toBe(50);
    expect(noPool.error?.msg).toMatch(/no enabled IPv4 pool/);
    await createPool(client, { name: 'st', cidr: '10.95.0.0/24' });
    expect((await cni({ command: 'STATUS' })).exitCode).toBe(0);
    const dead = ['http://127.0.0.1:1', 'http://127.0.0.1:9'];
    const status = await cni({ command: 'STATUS', endpoints: dead });
    expect(status.error?.code).toBe(50);
    expect(status.error?.msg).toMatch(/etcd unreachable/);
    const started = Date.now();
    const add = await cni({ command: 'ADD', containerId: 'u1', endpoints: dead });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(add.error?.code).toBe(11);
    expect(add.error?.msg).toMatch(/etcd unreachable: no member of 127\.0\.0\.1:1, 127\.0\.0\.1:9 accepts connections/);
  });

  it('the CLI creates pools and shows usage per pool, block and node', async () => {
    await wipe();
    const cli = (...args: string[]) => execFileText(BIN, args, { ETCD_ENDPOINTS: etcd.endpoints.join(',') });
    expect(await cli('pool', 'create', '--name', 'cli-pool', '--cidr', '10.99.0.0/24', '--block-size', '28')).toMatch(/created pool cli-pool 10\.99\.0\.0\/24 \(blocks \/28\)/);
    expect((await listPools(client)).map((p) => p.name)).toEqual(['cli-pool']);
    ips(await cni({ command: 'ADD', node: 'node-s', containerId: 's1' }));
    const show = await cli('show', '--show-blocks');
    expect(show).toMatch(/cli-pool\t10\.99\.0\.0\/24\t256\t1\t255\t1/);
    expect(show).toMatch(/10\.99\.0\.\d+\/28\tcli-pool\tnode-s\t16\t1/);
    expect(show).toMatch(/node-s\t1\t1/);
    await deletePool(client, 'cli-pool');
  });
});

async function execFileText(file: string, args: string[], env: Record<string, string>): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}
