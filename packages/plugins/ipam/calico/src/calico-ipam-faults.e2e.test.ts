// SPDX-License-Identifier: Apache-2.0
// Faults on a real etcd cluster, through the built executable: the leader killed in the middle
// of a burst of ADDs, the plugin SIGKILLed at random moments of ADD, TLS with client certificates.
// After the runtime's DEL and a GC, no address is leaked or given twice.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CniCommand, execPlugin, type PluginRunResult } from '@cni/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcd } from './etcd.fixture.ts';
import { EtcdClient } from './lib/etcd.ts';
import { createPool } from './lib/pools.ts';

const BIN = process.env['CNI_TEST_CALICO_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/calico-ipam', import.meta.url));
const NETNS = '/run/netns/cnitest-calico-none';

let lockDir: string;
beforeAll(() => {
  lockDir = mkdtempSync(join(tmpdir(), 'cnitest-calico-locks-'));
});
afterAll(() => {
  if (lockDir) rmSync(lockDir, { recursive: true, force: true });
});

function conf(etcd: EtcdCluster, node: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    cniVersion: '1.1.0',
    name: 'net',
    type: 'calico-ipam',
    etcd_endpoints: etcd.endpoints.join(','),
    nodename: node,
    ipam_lock_file: join(lockDir, `${node}.lock`),
    ipam: { type: 'calico-ipam', gc_grace_seconds: 0 },
  };
  if (etcd.tls) Object.assign(out, { etcd_ca_cert_file: etcd.tls.caFile, etcd_cert_file: etcd.tls.certFile, etcd_key_file: etcd.tls.keyFile });
  return { ...out, ...extra };
}

function cni(etcd: EtcdCluster, command: CniCommand, node: string, containerId?: string, extra?: Record<string, unknown>): Promise<PluginRunResult> {
  return execPlugin(BIN, {
    command,
    ...(containerId === undefined ? {} : { containerId, ifName: 'eth0', netns: NETNS }),
    cniPath: '/nonexistent',
    conf: conf(etcd, node, extra),
    timeoutMs: 180_000,
  });
}

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

/** Allocated addresses by handle (etcdctl's view), and every address seen, to find doubles. */
async function allocations(etcd: EtcdCluster): Promise<{ byHandle: Map<string, number>; total: number; distinct: number }> {
  const blocks = await etcd.dump('/calico/ipam/v2/assignment/');
  const byHandle = new Map<string, number>();
  const seen = new Set<string>();
  let total = 0;
  for (const value of Object.values(blocks)) {
    const block = JSON.parse(value) as { cidr: string; allocations: (number | null)[]; attributes: { handle_id: string }[] };
    block.allocations.forEach((attr, ordinal) => {
      if (attr === null) return;
      total++;
      seen.add(`${block.cidr}#${ordinal}`);
      const handle = block.attributes[attr]!.handle_id;
      byHandle.set(handle, (byHandle.get(handle) ?? 0) + 1);
    });
  }
  return { byHandle, total, distinct: seen.size };
}

/** The handles etcd holds, and the blocks each names: they must agree with the blocks. */
async function handles(etcd: EtcdCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [key, value] of Object.entries(await etcd.dump('/calico/ipam/v2/handle/'))) {
    const handle = JSON.parse(value) as { block: Record<string, number> };
    out.set(key.slice('/calico/ipam/v2/handle/'.length), Object.values(handle.block).reduce((a, b) => a + b, 0));
  }
  return out;
}

describe('calico-ipam faults on a real etcd cluster', () => {
  let etcd: EtcdCluster;
  let client: EtcdClient;
  beforeAll(async () => {
    etcd = await startEtcd({ size: 3 });
    client = new EtcdClient({ endpoints: etcd.endpoints });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('the etcd leader killed in the middle of a burst: each ADD succeeds or fails clearly; after DEL and GC nothing leaks, nothing is given twice', async () => {
    await client.delete('/calico/', { prefix: true });
    await createPool(client, { name: 'burst', cidr: '10.110.0.0/22', blockSize: 28 });
    const leader = await etcd.leader();
    let started = 0;
    const runs = await inParallel(60, 12, async (i) => {
      if (++started === 20) etcd.kill(leader);
      return cni(etcd, 'ADD', `node-${i % 3}`, `b${i}`);
    });
    const ok = runs.flatMap((run, i) => (run.exitCode === 0 ? [i] : []));
    for (const run of runs) {
      if (run.exitCode === 0) continue;
      expect(run.error, run.stdout + run.stderr).toBeDefined();
      expect(run.error!.msg).toMatch(/etcd|calico-ipam/);
    }
    const addresses = ok.map((i) => (runs[i]!.result as { ips: { address: string }[] }).ips[0]!.address);
    expect(new Set(addresses).size).toBe(addresses.length);
    await etcd.restart(leader);
    // The runtime's DEL for each failed ADD, then a GC keeping the ones that succeeded.
    const failed = runs.flatMap((run, i) => (run.exitCode === 0 ? [] : [i]));
    for (const i of failed) expect((await cni(etcd, 'DEL', `node-${i % 3}`, `b${i}`)).exitCode).toBe(0);
    for (const node of [0, 1, 2]) {
      const valid = ok.filter((i) => i % 3 === node).map((i) => ({ containerID: `b${i}`, ifname: 'eth0' }));
      expect((await cni(etcd, 'GC', `node-${node}`, undefined, { 'cni.dev/valid-attachments': valid })).exitCode).toBe(0);
    }
    const state = await allocations(etcd);
    expect(state.total).toBe(state.distinct);
    expect([...state.byHandle.keys()].sort()).toEqual(ok.map((i) => `net.b${i}`).sort());
    expect(await handles(etcd)).toEqual(state.byHandle);
    // Every ADD that succeeded holds the address it was given.
    const blocks = Object.values(await etcd.dump('/calico/ipam/v2/assignment/')).join('\n');
    for (const i of ok) expect(blocks).toContain(`"handle_id":"net.b${i}"`);
    for (const i of ok) expect((await cni(etcd, 'DEL', `node-${i % 3}`, `b${i}`)).exitCode).toBe(0);
    expect((await allocations(etcd)).total).toBe(0);
    expect((await handles(etcd)).size).toBe(0);
  }, 300_000);

  it('SIGKILL at random moments of ADD (100 trials): after the runtime DEL and a GC, nothing is left', async () => {
    await client.delete('/calico/', { prefix: true });
    await createPool(client, { name: 'kill', cidr: '10.120.0.0/22', blockSize: 28 });
    // How long an ADD takes here, so the kills land anywhere in it.
    const probe: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      await cni(etcd, 'ADD', 'node-k', `probe${i}`);
      probe.push(Date.now() - t);
    }
    const span = Math.max(...probe) * 1.2;
    const trials = 100;
    const killedAt: number[] = [];
    await inParallel(trials, 8, (i) =>
      new Promise<void>((resolve) => {
        const child = spawn(BIN, [], {
          env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `k${i}`, CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        child.stdin.end(JSON.stringify(conf(etcd, `node-${i % 4}`)));
        const delay = Math.random() * span;
        killedAt.push(delay);
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    );
    const midway = await allocations(etcd);
    expect(midway.total).toBe(midway.distinct);
    // The runtime's DEL of every trial (and of the probes), then GC on each node.
    await inParallel(trials, 8, async (i) => expect((await cni(etcd, 'DEL', `node-${i % 4}`, `k${i}`)).exitCode).toBe(0));
    for (let i = 0; i < 3; i++) expect((await cni(etcd, 'DEL', 'node-k', `probe${i}`)).exitCode).toBe(0);
    for (const node of ['node-0', 'node-1', 'node-2', 'node-3', 'node-k']) {
      expect((await cni(etcd, 'GC', node, undefined, { 'cni.dev/valid-attachments': [] })).exitCode).toBe(0);
    }
    expect((await allocations(etcd)).total).toBe(0);
    expect((await handles(etcd)).size).toBe(0);
    // No block, no affinity (confirmed or pending) is left behind either.
    expect(Object.keys(await etcd.dump('/calico/ipam/v2/'))).toEqual([]);
    expect(killedAt).toHaveLength(trials);
  }, 400_000);
});

describe('calico-ipam over TLS with client certificates', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcd({ size: 1, tls: true });
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });

  it('allocates and releases with etcd_ca_cert_file, etcd_cert_file and etcd_key_file; without a client certificate it is refused', async () => {
    const client = new EtcdClient({ endpoints: etcd.endpoints, caFile: etcd.tls!.caFile, certFile: etcd.tls!.certFile, keyFile: etcd.tls!.keyFile });
    try {
      await createPool(client, { name: 'tls', cidr: '10.130.0.0/24' });
    } finally {
      client.close();
    }
    const add = await cni(etcd, 'ADD', 'node-t', 't1');
    expect(add.exitCode, add.stdout).toBe(0);
    expect((await etcd.dump('/calico/ipam/v2/handle/'))['/calico/ipam/v2/handle/net.t1']).toBeDefined();
    const noCert = await cni(etcd, 'ADD', 'node-t', 't2', { etcd_cert_file: '', etcd_key_file: '' });
    expect(noCert.exitCode).toBe(1);
    expect(noCert.error?.code).toBe(11);
    expect(noCert.error?.msg).toMatch(/etcd unreachable: .*TLS/);
    expect((await cni(etcd, 'DEL', 'node-t', 't1')).exitCode).toBe(0);
    expect(await etcd.dump('/calico/ipam/v2/handle/')).toEqual({});
  }, 60_000);
});
