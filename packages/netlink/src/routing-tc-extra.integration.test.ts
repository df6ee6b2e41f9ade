// SPDX-License-Identifier: Apache-2.0
import { ipJson, run, useTestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openNetlink } from './index.ts';

// Multipath routes, fwmark/suppress_prefixlength/goto rules and htb classes, read back through
// `ip -j` and `tc -j`.

async function setup() {
  const netns = await useTestNetns({ container: false });
  const nl = await openNetlink({ netns: netns.host.path });
  onTestFinished(() => nl.close());
  await nl.link.add({ kind: 'veth', name: 'v0', up: true, peer: { name: 'v1' } });
  await nl.link.add({ kind: 'veth', name: 'w0', up: true, peer: { name: 'w1' } });
  await nl.address.add({ name: 'v0' }, '10.10.0.2/24');
  await nl.address.add({ name: 'w0' }, '10.20.0.2/24');
  return { ns: netns.host, nl };
}

describe.skipIf(process.getuid?.() !== 0)('multipath routes, rules, htb classes', () => {
  it('adds a multipath route with weights, reads it back, and deletes it', async () => {
    const { ns, nl } = await setup();
    await nl.route.add({ dst: '192.0.2.0/24', nexthops: [{ gateway: '10.10.0.1', link: { name: 'v0' }, weight: 3 }, { gateway: '10.20.0.1', link: { name: 'w0' } }] });
    const [route] = await ipJson<{ dst: string; nexthops?: { gateway: string; dev: string; weight: number }[] }[]>(ns, ['route', 'show', '192.0.2.0/24']);
    expect(route?.nexthops?.map((hop) => [hop.gateway, hop.dev, hop.weight])).toEqual([
      ['10.10.0.1', 'v0', 3],
      ['10.20.0.1', 'w0', 1],
    ]);
    const ours = (await nl.route.list()).find((r) => r.dst === '192.0.2.0/24');
    const v0 = (await nl.link.get({ name: 'v0' })).index;
    expect(ours?.nexthops).toEqual([
      { gateway: '10.10.0.1', linkIndex: v0, weight: 3, onlink: false },
      { gateway: '10.20.0.1', linkIndex: (await nl.link.get({ name: 'w0' })).index, weight: 1, onlink: false },
    ]);
    await nl.route.del({ dst: '192.0.2.0/24' });
    expect(await ipJson(ns, ['route', 'show', '192.0.2.0/24'])).toEqual([]);
    await expect(nl.route.add({ dst: '192.0.2.0/24', gateway: '10.10.0.1', nexthops: [{ gateway: '10.20.0.1' }] })).rejects.toThrow(/multipath/);
  });

  it('adds rules with fwmark/mask, suppress_prefixlength and goto', async () => {
    const { ns, nl } = await setup();
    await nl.rule.add({ priority: 100, fwmark: 0x10, fwmask: 0xff, table: 100 });
    await nl.rule.add({ priority: 101, table: 254, suppressPrefixLength: 0 });
    await nl.rule.add({ priority: 102, from: '10.10.0.0/24', goto: 200 });
    await nl.rule.add({ priority: 200, table: 200 });
    const rules = await ipJson<{ priority: number; fwmark?: string; table?: string; suppress_prefixlen?: number; action?: string; target?: number }[]>(ns, ['rule', 'show']);
    const byPriority = new Map(rules.map((rule) => [rule.priority, rule]));
    expect(byPriority.get(100)).toMatchObject({ fwmark: '0x10', fwmask: '0xff', table: '100' });
    expect(byPriority.get(101)).toMatchObject({ table: 'main', suppress_prefixlen: 0 });
    expect(byPriority.get(102)).toMatchObject({ goto: 200, src: '10.10.0.0', srclen: 24 });
    const ours = await nl.rule.list();
    expect(ours.find((rule) => rule.priority === 100)).toMatchObject({ fwmark: 0x10, fwmask: 0xff, table: 100, suppressPrefixLength: undefined });
    expect(ours.find((rule) => rule.priority === 101)).toMatchObject({ suppressPrefixLength: 0 });
    expect(ours.find((rule) => rule.priority === 102)).toMatchObject({ goto: 200, action: 2 });
    await nl.rule.del({ priority: 100, fwmark: 0x10, fwmask: 0xff, table: 100 });
    await nl.rule.del({ priority: 102, from: '10.10.0.0/24', goto: 200 });
    const left = (await ipJson<{ priority: number }[]>(ns, ['rule', 'show'])).map((rule) => rule.priority);
    expect(left).not.toContain(100);
    expect(left).not.toContain(102);
    await expect(nl.rule.add({ priority: 103 })).rejects.toThrow(/a rule needs a table or a goto/);
  });

  it('adds, changes, lists and deletes htb classes', async () => {
    const { ns, nl } = await setup();
    await nl.qdisc.add({ name: 'v0' }, { kind: 'htb', handle: '1:', defaultClass: 0x10 });
    await nl.tclass.add({ name: 'v0' }, { kind: 'htb', parent: '1:', classid: '1:1', rate: 1_250_000 });
    await nl.tclass.add({ name: 'v0' }, { kind: 'htb', parent: '1:1', classid: '1:10', rate: 125_000, ceil: 250_000, prio: 2 });
    // tc prints classes as text only (no -j for htb classes in iproute2 6.1).
    const read = async () =>
      (await run(['tc', '-n', ns.name, 'class', 'show', 'dev', 'v0'])).stdout
        .split('\n')
        .map((line) => /^class (\S+) (\S+) (?:parent (\S+)|root) (?:leaf \S+ )?prio (\d+) rate (\S+) ceil (\S+)/.exec(line))
        .filter((match) => match !== null)
        .map((m) => ({ class: m[1], handle: m[2], parent: m[3], prio: Number(m[4]), rate: m[5], ceil: m[6] }));
    let classes = await read();
    expect(classes.find((c) => c.handle === '1:10')).toMatchObject({ class: 'htb', parent: '1:1', rate: '1Mbit', ceil: '2Mbit', prio: 2 });
    await nl.tclass.change({ name: 'v0' }, { kind: 'htb', parent: '1:1', classid: '1:10', rate: 200_000, ceil: 300_000, prio: 1 });
    classes = await read();
    expect(classes.find((c) => c.handle === '1:10')).toMatchObject({ rate: '1600Kbit', ceil: '2400Kbit', prio: 1 });
    const ours = await nl.tclass.list({ name: 'v0' });
    expect(ours.find((c) => c.classid === '1:10')).toMatchObject({ kind: 'htb', parent: '1:1', htb: { rate: 200_000, ceil: 300_000, prio: 1 } });
    await nl.tclass.del({ name: 'v0' }, '1:10');
    expect((await read()).map((c) => c.handle)).toEqual(['1:1']);
    await expect(nl.tclass.add({ name: 'v0' }, { kind: 'htb', parent: '1:', classid: '1:', rate: 1 })).rejects.toThrow(/with a minor/);
  });
});
