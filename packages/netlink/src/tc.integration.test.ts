// SPDX-License-Identifier: Apache-2.0
import { readQdiscs, tcJson, useTestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openNetlink } from './index.ts';

// Traffic control as the bandwidth plugin uses it, read back through `tc -j`.

async function setup() {
  const netns = await useTestNetns({ container: false });
  const nl = await openNetlink({ netns: netns.host.path });
  onTestFinished(() => nl.close());
  await nl.link.add({ kind: 'veth', name: 'v0', up: true, peer: { name: 'v1', txQueueLen: 1000 } });
  await nl.link.add({ kind: 'ifb', name: 'ifb0', up: true });
  return { ns: netns.host, nl };
}

describe.skipIf(process.getuid?.() !== 0)('qdisc', () => {
  it('adds a tbf with rate, burst and latency, replaces it and deletes it', async () => {
    const { ns, nl } = await setup();
    await nl.qdisc.add({ name: 'v0' }, { kind: 'tbf', rate: 125_000, burst: 32_768, latency: 25_000 });
    const [tbf] = (await readQdiscs(ns, 'v0')).filter((qdisc) => qdisc.kind === 'tbf');
    expect(tbf?.root).toBe(true);
    expect(tbf?.options).toMatchObject({ rate: 125_000, burst: 32_768 });
    expect(Math.abs(Number(tbf?.options?.lat) - 25_000)).toBeLessThan(100);
    const listed = (await nl.qdisc.list({ name: 'v0' })).find((qdisc) => qdisc.kind === 'tbf');
    expect(listed).toMatchObject({ parent: 'root', tbf: { rate: 125_000, burst: 32_768, limit: 125_000 * 0.025 + 32_768 } });

    await nl.qdisc.replace({ name: 'v0' }, { kind: 'tbf', rate: 1_250_000, burst: 65_536, limit: 100_000 });
    const [replaced] = (await readQdiscs(ns, 'v0')).filter((qdisc) => qdisc.kind === 'tbf');
    expect(replaced?.options?.rate).toBe(1_250_000);
    // tc prints the burst back from the bucket time in whole microseconds: 65535 for 64 KiB here.
    expect(Math.abs(Number(replaced?.options?.burst) - 65_536)).toBeLessThanOrEqual(2);
    expect(await nl.qdisc.add({ name: 'v0' }, { kind: 'tbf', rate: 1, burst: 1, limit: 1 }).catch((error: unknown) => error)).toMatchObject({ tag: 'AlreadyExists' });

    await nl.qdisc.del({ name: 'v0' }, { parent: 'root' });
    expect((await readQdiscs(ns, 'v0')).map((qdisc) => qdisc.kind)).not.toContain('tbf');
  });

  it('adds ingress, clsact and htb qdiscs', async () => {
    const { ns, nl } = await setup();
    await nl.qdisc.add({ name: 'v0' }, { kind: 'ingress' });
    await nl.qdisc.add({ name: 'v1' }, { kind: 'clsact' });
    await nl.qdisc.add({ name: 'ifb0' }, { kind: 'htb', handle: '1:', defaultClass: 0x10 });
    const qdiscs = await readQdiscs(ns);
    expect(qdiscs).toContainEqual(expect.objectContaining({ kind: 'ingress', dev: 'v0', handle: 'ffff:', parent: 'ffff:fff1' }));
    expect(qdiscs).toContainEqual(expect.objectContaining({ kind: 'clsact', dev: 'v1', handle: 'ffff:' }));
    expect(qdiscs).toContainEqual(expect.objectContaining({ kind: 'htb', dev: 'ifb0', handle: '1:', root: true, options: expect.objectContaining({ default: '0x10', r2q: 10 }) }));
    const listed = await nl.qdisc.list();
    expect(listed).toContainEqual(expect.objectContaining({ kind: 'ingress', handle: 'ffff:', parent: 'ingress' }));
    expect(listed).toContainEqual(expect.objectContaining({ kind: 'htb', handle: '1:', parent: 'root' }));
    await nl.qdisc.del({ name: 'v0' }, { kind: 'ingress' });
    await nl.qdisc.del({ name: 'v1' }, { kind: 'clsact' });
    await nl.qdisc.del({ name: 'ifb0' }, { kind: 'htb', handle: '1:' });
    const left = (await readQdiscs(ns)).map((qdisc) => qdisc.kind);
    expect(left).not.toContain('ingress');
    expect(left).not.toContain('clsact');
    expect(left).not.toContain('htb');
  });

  it('refuses bad handles and tbf without limit or latency', async () => {
    const { nl } = await setup();
    expect(await nl.qdisc.add({ name: 'v0' }, { kind: 'tbf', rate: 1000, burst: 1000 }).catch((error: unknown) => error)).toMatchObject({ tag: 'InvalidArgument' });
    expect(await nl.qdisc.add({ name: 'v0' }, { kind: 'htb', handle: 'x:y' }).catch((error: unknown) => error)).toMatchObject({ tag: 'InvalidArgument' });
    expect(await nl.qdisc.add({ name: 'nope0' }, { kind: 'ingress' }).catch((error: unknown) => error)).toMatchObject({ name: 'LinkNotFoundError' });
  });
});

describe.skipIf(process.getuid?.() !== 0)('filter', () => {
  it('adds a u32 match-all filter redirecting ingress to an ifb, lists and deletes it', async () => {
    const { ns, nl } = await setup();
    await nl.qdisc.add({ name: 'v0' }, { kind: 'ingress' });
    await nl.filter.add({ name: 'v0' }, { kind: 'u32', parent: 'ffff:', action: { kind: 'mirred', link: { name: 'ifb0' } } });
    const filters = await tcJson(ns, ['filter', 'show', 'dev', 'v0', 'parent', 'ffff:']);
    const withAction = filters.find((filter) => Array.isArray(filter.options?.actions));
    expect(withAction).toMatchObject({ kind: 'u32', protocol: 'all', options: { match: { value: '0', mask: '0' } } });
    expect((withAction?.options?.actions as unknown[])[0]).toMatchObject({ kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'ifb0' });
    const ifb = await nl.link.get({ name: 'ifb0' });
    const listed = await nl.filter.list({ name: 'v0' }, 'ffff:');
    expect(listed).toContainEqual(expect.objectContaining({ kind: 'u32', protocol: 3, mirredIndex: ifb.index }));
    await nl.filter.del({ name: 'v0' }, { parent: 'ffff:' });
    expect(await tcJson(ns, ['filter', 'show', 'dev', 'v0', 'parent', 'ffff:'])).toEqual([]);
  });

  it('mirrors instead of redirecting, with a priority and protocol', async () => {
    const { ns, nl } = await setup();
    await nl.qdisc.add({ name: 'v0' }, { kind: 'clsact' });
    await nl.filter.add({ name: 'v0' }, { kind: 'u32', parent: 'ffff:fff3', priority: 7, protocol: 'ip', action: { kind: 'mirred', mode: 'mirror', link: { name: 'ifb0' } } });
    const filters = await tcJson(ns, ['filter', 'show', 'dev', 'v0', 'egress']);
    const withAction = filters.find((filter) => Array.isArray(filter.options?.actions));
    expect(withAction).toMatchObject({ protocol: 'ip', pref: 7 });
    expect((withAction?.options?.actions as unknown[])[0]).toMatchObject({ mirred_action: 'mirror', to_dev: 'ifb0' });
  });
});
