// SPDX-License-Identifier: Apache-2.0
// A write whose answer is lost after etcd applied it: the client's retry finds its own compare
// failing on its own write. That must be answered as applied (not as a conflict, which made
// an ADD take a second address for its handle, or answer an error while holding one).
// A real one-member etcd behind a loopback proxy that forwards a chosen request and swallows its
// answer, as a reply lost to a deadline on a busy node.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdCluster, startEtcd } from '../etcd.fixture.ts';
import { EtcdClient } from './etcd.ts';
import { CalicoIpam } from './ipam.ts';
import { blockHandles, decodeBlock, decodeHandle, handleKey } from './model.ts';
import { createPool } from './pools.ts';

/** A TCP proxy to `target` that swallows the answers to the next `drops` conditional transactions. */
async function lossyProxy(target: URL): Promise<{ url: string; dropNextWrites(count: number): void; dropped(): number; close(): Promise<void> }> {
  let drops = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let swallow = false;
    let sent = '';
    client.on('data', (chunk: Buffer) => {
      sent += chunk.toString('latin1');
      // A transaction with comparisons is a write (reads go as transactions without any).
      if (!swallow && drops > 0 && sent.includes('/v3/kv/txn') && sent.includes('"compare":[{')) {
        drops--;
        dropped++;
        swallow = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      // Answers before the swallowed request were complete before it was sent (HTTP/1.1).
      if (!swallow) {
        sent = '';
        client.write(chunk);
      }
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    dropNextWrites(count) {
      drops = count;
    },
    dropped: () => dropped,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('etcd client: a write whose answer was lost', () => {
  let etcd: EtcdCluster;
  let proxy: Awaited<ReturnType<typeof lossyProxy>>;
  let client: EtcdClient;

  beforeAll(async () => {
    etcd = await startEtcd({ size: 1 });
    proxy = await lossyProxy(new URL(etcd.endpoints[0]!));
    // A short exchange deadline so that the swallowed answer is given up on quickly.
    client = new EtcdClient({ endpoints: [proxy.url], requestTimeoutMs: 300, operationTimeoutMs: 20_000 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await proxy?.close();
    await etcd?.stop();
  });

  it('is answered as applied when the retry finds its own write in place', async () => {
    proxy.dropNextWrites(1);
    const applied = await client.txn([{ key: '/t/a', absent: true }], [{ put: '/t/a', value: 'mine' }]);
    expect(proxy.dropped()).toBe(1);
    expect(applied).toBe(true);
    // Applied once: the key's first version.
    const raw = await client.call('/v3/kv/range', { key: Buffer.from('/t/a').toString('base64') });
    expect((raw['kvs'] as { version: string; value: string }[])[0]).toMatchObject({ version: '1', value: Buffer.from('mine').toString('base64') });
  });

  it('is still a conflict when the key holds another writer value', async () => {
    await client.put('/t/b', 'theirs');
    proxy.dropNextWrites(1);
    const before = proxy.dropped();
    const applied = await client.txn([{ key: '/t/b', absent: true }], [{ put: '/t/b', value: 'mine' }]);
    expect(proxy.dropped()).toBe(before + 1);
    expect(applied).toBe(false);
    expect((await client.get('/t/b'))?.value).toBe('theirs');
  });

  it('autoAssign whose block write answer is lost gives the handle one address, the one it answers', async () => {
    await createPool(client, { name: 'lossy', cidr: '10.77.0.0/24' });
    const ipam = new CalicoIpam(client, 'node-a');
    // The first ADD of the node claims a block: pending affinity, then the block. Lose both answers.
    proxy.dropNextWrites(2);
    const before = proxy.dropped();
    const first = await ipam.autoAssign({ family: 4, handleId: 'net.c1', attrs: { node: 'node-a' } });
    // An ADD into the block now affine: its one write's answer is lost.
    proxy.dropNextWrites(1);
    const second = await ipam.autoAssign({ family: 4, handleId: 'net.c2', attrs: { node: 'node-a' } });
    expect(proxy.dropped()).toBe(before + 3);

    const dump = await etcd.dump('/calico/ipam/v2/');
    const blocks = Object.entries(dump).filter(([key]) => key.includes('/assignment/'));
    expect(blocks).toHaveLength(1);
    const held = blockHandles(decodeBlock(blocks[0]![1]));
    for (const [handleId, got] of [
      ['net.c1', first],
      ['net.c2', second],
    ] as const) {
      expect(held.get(handleId)?.ordinals).toHaveLength(1);
      expect(decodeHandle(dump[handleKey(handleId)]!).block).toEqual({ [got.block.toString()]: 1 });
    }
    expect(first.ip.toString()).not.toBe(second.ip.toString());
    expect((await ipam.addressesOf('net.c1')).map((a) => a.ip.toString())).toEqual([first.ip.toString()]);
    expect((await ipam.addressesOf('net.c2')).map((a) => a.ip.toString())).toEqual([second.ip.toString()]);
  });
});
