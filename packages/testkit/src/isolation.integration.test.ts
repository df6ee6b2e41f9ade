// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { addBridge } from './links.ts';
import { useTestNetns, type TestNetns } from './netns.ts';
import { parseIptablesSave, readAddressList, readIptablesSave, readLinks, readNftTables, readRules } from './readers.ts';

// Two tests run at the same time, each making a bridge, an nft table, an iptables chain and a
// policy rule with the same names, in "the host". Each must see only its own.

/** Resolves when both tests have made their state, so each looks while the other's exists. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => {};
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) release();
    return all;
  };
}

const bothReady = barrier(2);
const tag = { a: '10.61.0.1/24', b: '10.62.0.1/24' } as const;

async function makeHostState(netns: TestNetns, address: string): Promise<void> {
  await addBridge(netns.host, 'cni0', { addresses: [address] });
  await netns.execHost(['nft', 'add', 'table', 'inet', 'cni_test']);
  await netns.execHost(['iptables', '-t', 'filter', '-N', 'CNI-ISOLATION']);
  await netns.execHost(['ip', 'rule', 'add', 'from', address.replace(/\.1\/24$/, '.0/24'), 'table', '100', 'priority', '100']);
}

async function expectOnlyOwnState(netns: TestNetns, address: string): Promise<void> {
  const links = await readLinks(netns.host);
  expect(links.map((link) => link.ifname).sort()).toEqual(['cni0', 'lo']);
  expect(await readAddressList(netns.host, 'cni0')).toEqual([address]);
  expect(await readNftTables(netns.host)).toContain('inet cni_test');
  const filter = parseIptablesSave(await readIptablesSave(netns.host, { table: 'filter' }))['filter'];
  expect(Object.keys(filter?.chains ?? {})).toContain('CNI-ISOLATION');
  const rules = (await readRules(netns.host, 4)).filter((rule) => rule.priority === 100);
  expect(rules.map((rule) => `${rule.src}/${rule.srclen}`)).toEqual([address.replace(/\.1\/24$/, '.0/24')]);
  // And the machine's own namespace has none of it.
  expect((await readLinks(null)).map((link) => link.ifname)).not.toContain('cni0');
}

describe.skipIf(process.getuid?.() !== 0).concurrent('two tests in parallel on the host', () => {
  for (const [name, address] of Object.entries(tag)) {
    it(`test ${name} sees only its own bridge, nft table, iptables chain and rule`, async (context) => {
      const netns = await useTestNetns({ context, container: false });
      await makeHostState(netns, address);
      await bothReady();
      await expectOnlyOwnState(netns, address);
    });
  }
});
