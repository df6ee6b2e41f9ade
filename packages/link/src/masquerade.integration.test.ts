// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { exec, parseIptablesSave, readNftRuleset, useTestNetns, type TestNamespace } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { createCommandRunner, iptablesCommand, type IptablesVariant } from '@cni/netfilter';
import {
  gcIpMasq,
  iptablesMasquerade,
  listIpMasq,
  MASQUERADE_CHAIN,
  MASQUERADE_TABLE,
  nftablesMasquerade,
  setupIpMasq,
  teardownIpMasq,
  type MasqueradeAttachment,
} from './masquerade.ts';

const isRoot = process.getuid?.() === 0;

function runnerIn(ns: TestNamespace) {
  return createCommandRunner({ prefix: ['ip', 'netns', 'exec', ns.name] });
}

/** The nat table as `iptables-save` of the variant prints it: user chains and rules. */
async function natDump(ns: TestNamespace, family: 4 | 6, variant: IptablesVariant) {
  const { stdout } = await exec(ns, [`${iptablesCommand(family, variant)}-save`, '-t', 'nat']);
  const nat = parseIptablesSave(stdout).nat ?? { chains: {}, rules: [] };
  return { chains: Object.keys(nat.chains).filter((name) => nat.chains[name] === '-'), rules: nat.rules };
}

/** The rules of `inet cni_plugins_masquerade`, from `nft -j list ruleset`. */
async function nftMasqRules(ns: TestNamespace) {
  const objects = await readNftRuleset(ns);
  type Rule = { family: string; table: string; chain: string; comment?: string; expr: unknown[] };
  return objects
    .map((o) => o.rule as Rule | undefined)
    .filter((r): r is Rule => r !== undefined && r.family === 'inet' && r.table === MASQUERADE_TABLE);
}

const A: MasqueradeAttachment = { network: 'mynet', containerId: 'ctr-abc123', ifName: 'eth0', addresses: ['10.88.0.2/16', 'fd00:88::2/64'] };
const B: MasqueradeAttachment = { network: 'mynet', containerId: 'ctr-def456', ifName: 'eth0', addresses: ['10.88.0.3/16', 'fd00:88::3/64'] };
const C: MasqueradeAttachment = { network: 'other', containerId: 'ctr-abc123', ifName: 'net1', addresses: ['10.99.1.5/24'] };

const variants = (['legacy', 'nft'] as const).filter((variant) => existsSync(`/usr/sbin/iptables-${variant}`));

describe.skipIf(!isRoot)('iptables masquerade', () => {
  it('has both iptables variants to test', () => {
    // Debian's iptables package ships both; a missing one would silently shrink the matrix below.
    expect(variants).toEqual(['legacy', 'nft']);
  });

  describe.each(variants)('iptables-%s', (variant) => {
    it("writes upstream's chain, rules and comments, idempotently", async () => {
      const { host } = await useTestNetns({ container: false });
      const backend = iptablesMasquerade({ runner: runnerIn(host), iptablesVariant: variant });
      await backend.setup(A);
      const comment = '"name: \\"mynet\\" id: \\"ctr-abc123\\""';
      const chain = 'CNI-b35254af8ad75f5ce3aedbb9';
      const v4 = await natDump(host, 4, variant);
      expect(v4.chains).toEqual([chain]);
      expect(v4.rules).toEqual([
        `-A POSTROUTING -s 10.88.0.2/32 -m comment --comment ${comment} -j ${chain}`,
        `-A ${chain} -d 10.88.0.0/16 -m comment --comment ${comment} -j ACCEPT`,
        `-A ${chain} ! -d 224.0.0.0/4 -m comment --comment ${comment} -j MASQUERADE`,
      ]);
      const v6 = await natDump(host, 6, variant);
      expect(v6.rules).toEqual([
        `-A POSTROUTING -s fd00:88::2/128 -m comment --comment ${comment} -j ${chain}`,
        `-A ${chain} -d fd00:88::/64 -m comment --comment ${comment} -j ACCEPT`,
        `-A ${chain} ! -d ff00::/8 -m comment --comment ${comment} -j MASQUERADE`,
      ]);

      await backend.setup(A);
      expect(await natDump(host, 4, variant)).toEqual(v4);
      expect(await natDump(host, 6, variant)).toEqual(v6);

      await backend.teardown(A);
      expect(await natDump(host, 4, variant)).toEqual({ chains: [], rules: [] });
      expect(await natDump(host, 6, variant)).toEqual({ chains: [], rules: [] });
      // A second teardown finds nothing and succeeds.
      await backend.teardown(A);
    });

    it("keeps one container's rules when another's are removed", async () => {
      const { host } = await useTestNetns({ container: false });
      const backend = iptablesMasquerade({ runner: runnerIn(host), iptablesVariant: variant });
      await backend.setup(A);
      const onlyA = { v4: await natDump(host, 4, variant), v6: await natDump(host, 6, variant) };
      await backend.setup(B);
      const both = await natDump(host, 4, variant);
      expect(both.chains).toHaveLength(2);
      expect(both.rules).toHaveLength(6);
      await backend.teardown(B);
      expect({ v4: await natDump(host, 4, variant), v6: await natDump(host, 6, variant) }).toEqual(onlyA);
    });

    it('keeps the chain an attachment shares with another interface of the container until the last jump goes', async () => {
      const { host } = await useTestNetns({ container: false });
      const backend = iptablesMasquerade({ runner: runnerIn(host), iptablesVariant: variant });
      const second: MasqueradeAttachment = { ...A, ifName: 'net1', addresses: ['10.88.0.9/16'] };
      await backend.setup(A);
      const onlyA = await natDump(host, 4, variant);
      await backend.setup(second);
      expect((await natDump(host, 4, variant)).rules.filter((rule) => rule.startsWith('-A POSTROUTING'))).toHaveLength(2);
      await backend.teardown(second);
      expect(await natDump(host, 4, variant)).toEqual(onlyA);
      await backend.teardown(A);
      expect(await natDump(host, 4, variant)).toEqual({ chains: [], rules: [] });
      expect(await natDump(host, 6, variant)).toEqual({ chains: [], rules: [] });
    });

    it('puts every ACCEPT before the MASQUERADE when an attachment has two subnets', async () => {
      const { host } = await useTestNetns({ container: false });
      const backend = iptablesMasquerade({ runner: runnerIn(host), iptablesVariant: variant });
      await backend.setup({ ...A, addresses: ['10.88.0.2/16', '10.77.0.2/24'] });
      const targets = (await natDump(host, 4, variant)).rules.filter((r) => r.startsWith('-A CNI-')).map((r) => r.split(' -j ')[1]);
      expect(targets).toEqual(['ACCEPT', 'ACCEPT', 'MASQUERADE']);
    });

    it('lists entries with their network and container, and GC removes only stale ones of its network', async () => {
      const { host } = await useTestNetns({ container: false });
      const runner = runnerIn(host);
      const backend = iptablesMasquerade({ runner, iptablesVariant: variant });
      await Promise.all([backend.setup(A), backend.setup(B), backend.setup(C)]);

      const listed = await backend.list();
      expect(listed.map((e) => `${e.family} ${e.network} ${e.containerId} ${e.addresses.join(',')}`).sort()).toEqual([
        '4 mynet ctr-abc123 10.88.0.2',
        '4 mynet ctr-def456 10.88.0.3',
        '4 other ctr-abc123 10.99.1.5',
        '6 mynet ctr-abc123 fd00:88::2',
        '6 mynet ctr-def456 fd00:88::3',
      ]);

      const removed = await backend.gc('mynet', [{ containerId: 'ctr-abc123', ifName: 'eth0' }]);
      expect(removed.map((e) => `${e.family} ${e.containerId}`).sort()).toEqual(['4 ctr-def456', '6 ctr-def456']);
      const left = await backend.list();
      expect(left.map((e) => `${e.network} ${e.containerId}`).sort()).toEqual(['mynet ctr-abc123', 'mynet ctr-abc123', 'other ctr-abc123']);
      expect((await natDump(host, 4, variant)).rules.join('\n')).not.toContain('ctr-def456');
    });

    it('survives concurrent setups of many containers', async () => {
      const { host } = await useTestNetns({ container: false });
      const runner = runnerIn(host);
      const attachments = Array.from({ length: 8 }, (_, i) => ({ ...A, containerId: `ctr-${i}`, addresses: [`10.88.1.${i + 2}/16`] }));
      // One backend object per "plugin process", as separate executables would have.
      await Promise.all(attachments.map((a) => iptablesMasquerade({ runner, iptablesVariant: variant }).setup(a)));
      const dump = await natDump(host, 4, variant);
      expect(dump.chains).toHaveLength(8);
      expect(dump.rules).toHaveLength(24);
      await Promise.all(attachments.map((a) => iptablesMasquerade({ runner, iptablesVariant: variant }).teardown(a)));
      expect(await natDump(host, 4, variant)).toEqual({ chains: [], rules: [] });
    });
  });

  it('removes rules the Debian reference bridge wrote, and its DEL removes ours', { skip: !existsSync('/usr/lib/cni/bridge') }, async () => {
    const netns = await useTestNetns();
    const conf = JSON.stringify({
      cniVersion: '0.4.0',
      name: 'mynet',
      type: 'bridge',
      bridge: 'cnitest0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', dataDir: `${netns.dir}/ipam`, ranges: [[{ subnet: '10.88.0.0/16' }], [{ subnet: 'fd00:88::/64' }]] },
    });
    const reference = (command: string) =>
      netns.execHost(['/usr/lib/cni/bridge'], {
        input: conf,
        env: {
          PATH: process.env.PATH,
          CNI_COMMAND: command,
          CNI_CONTAINERID: A.containerId,
          CNI_NETNS: netns.container.path,
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
        },
      });
    await reference('ADD');
    const runner = runnerIn(netns.host);
    // Debian's plugin runs plain `iptables`, whichever variant the alternatives point at.
    expect((await natDump(netns.host, 4, 'default')).chains).toEqual(['CNI-b35254af8ad75f5ce3aedbb9']);
    const listed = await listIpMasq({ runner });
    expect(listed.filter((e) => e.backend === 'iptables').map((e) => `${e.network} ${e.containerId} ${e.addresses}`)).toEqual([
      'mynet ctr-abc123 10.88.0.2',
      'mynet ctr-abc123 fd00:88::2',
    ]);

    await teardownIpMasq({ ...A, addresses: ['10.88.0.2/16', 'fd00:88::2/64'] }, { runner });
    expect(await natDump(netns.host, 4, 'default')).toEqual({ chains: [], rules: [] });
    expect(await natDump(netns.host, 6, 'default')).toEqual({ chains: [], rules: [] });

    await setupIpMasq({ ...A, addresses: ['10.88.0.2/16', 'fd00:88::2/64'] }, { runner, backend: 'iptables' });
    await reference('DEL');
    expect(await natDump(netns.host, 4, 'default')).toEqual({ chains: [], rules: [] });
    expect(await natDump(netns.host, 6, 'default')).toEqual({ chains: [], rules: [] });
    await netns.execHost(['ip', 'link', 'del', 'cnitest0']);
  });
});

describe.skipIf(!isRoot)('nftables masquerade', () => {
  it("writes upstream's table, chains and rules, idempotently", async () => {
    const { host } = await useTestNetns({ container: false });
    const backend = nftablesMasquerade({ runner: runnerIn(host) });
    await backend.setup(A);
    const text = (await exec(host, ['nft', 'list', 'table', 'inet', MASQUERADE_TABLE])).stdout;
    expect(text).toContain('type nat hook postrouting priority srcnat; policy accept;');
    expect(text).toMatch(/ip daddr 224\.0\.0\.0\/4 return\s+ip6 daddr ff00::\/8 return\s+goto masq_checks/);
    expect(text).toContain(`ip saddr 10.88.0.2 ip daddr != 10.88.0.0/16 masquerade comment "`);
    expect(text).toContain(`ip6 saddr fd00:88::2 ip6 daddr != fd00:88::/64 masquerade comment "`);
    const rules = await nftMasqRules(host);
    const masq = rules.filter((r) => r.chain === MASQUERADE_CHAIN);
    expect(masq.map((r) => r.comment)).toEqual([
      expect.stringMatching(/^[0-9a-f]{16}-[0-9a-f]{16}, net: mynet, if: eth0, id: ctr-abc123$/),
      expect.stringMatching(/, net: mynet, if: eth0, id: ctr-abc123$/),
    ]);

    await backend.setup(A);
    expect(await nftMasqRules(host)).toHaveLength(rules.length);

    await backend.teardown(A);
    const after = await nftMasqRules(host);
    // As upstream, the table and its postrouting chain stay; masq_checks is empty.
    expect(after.filter((r) => r.chain === MASQUERADE_CHAIN)).toEqual([]);
    expect(after.filter((r) => r.chain === 'postrouting')).toHaveLength(3);
    await backend.teardown(A);
  });

  it("keeps one attachment's rules when another's are removed, by interface too", async () => {
    const { host } = await useTestNetns({ container: false });
    const backend = nftablesMasquerade({ runner: runnerIn(host) });
    const second = { ...A, ifName: 'net1', addresses: ['10.89.0.2/16'] };
    await backend.setup(A);
    await backend.setup(B);
    await backend.setup(second);
    await backend.teardown(B);
    await backend.teardown(second);
    const masq = (await nftMasqRules(host)).filter((r) => r.chain === MASQUERADE_CHAIN);
    expect(masq.map((r) => r.comment!.replace(/^\S+ /, ''))).toEqual([
      'net: mynet, if: eth0, id: ctr-abc123',
      'net: mynet, if: eth0, id: ctr-abc123',
    ]);
  });

  it('lists entries with their attachment, and GC removes only stale ones of its network', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    const backend = nftablesMasquerade({ runner });
    for (const a of [A, B, C]) await backend.setup(a);
    const listed = await backend.list();
    expect(listed.map((e) => `${e.network} ${e.ifName} ${e.containerId} ${e.addresses}`)).toEqual([
      'mynet eth0 ctr-abc123 10.88.0.2',
      'mynet eth0 ctr-abc123 fd00:88::2',
      'mynet eth0 ctr-def456 10.88.0.3',
      'mynet eth0 ctr-def456 fd00:88::3',
      'other net1 ctr-abc123 10.99.1.5',
    ]);
    const removed = await gcIpMasq('mynet', [{ containerId: 'ctr-abc123', ifName: 'eth0' }], { runner });
    expect(removed.map((e) => `${e.backend} ${e.containerId} ${e.addresses}`)).toEqual([
      'nftables ctr-def456 10.88.0.3',
      'nftables ctr-def456 fd00:88::3',
    ]);
    expect((await backend.list()).map((e) => e.containerId)).toEqual(['ctr-abc123', 'ctr-abc123', 'ctr-abc123']);
  });

  it('survives concurrent setups of many containers', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    const attachments = Array.from({ length: 8 }, (_, i) => ({ ...A, containerId: `ctr-${i}`, addresses: [`10.88.1.${i + 2}/16`] }));
    await Promise.all(attachments.map((a) => nftablesMasquerade({ runner }).setup(a)));
    expect((await nftMasqRules(host)).filter((r) => r.chain === MASQUERADE_CHAIN)).toHaveLength(8);
    await Promise.all(attachments.map((a) => nftablesMasquerade({ runner }).teardown(a)));
    expect((await nftMasqRules(host)).filter((r) => r.chain === MASQUERADE_CHAIN)).toHaveLength(0);
  });

  it('refuses bad input before running anything', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await expect(setupIpMasq({ ...A, addresses: ['10.88.0.2/16 masquerade'] }, { runner, backend: 'nftables' })).rejects.toThrow(
      /invalid address "10.88.0.2\/16 masquerade"/,
    );
    await expect(setupIpMasq({ ...A, containerId: 'x"; flush ruleset' }, { runner, backend: 'nftables' })).rejects.toThrow(/invalid container ID/);
    await expect(setupIpMasq(A, { runner, backend: 'pf' as never })).rejects.toThrow(/invalid backend "pf"/);
    expect(await readNftRuleset(host)).toEqual([]);
  });
});

describe.skipIf(!isRoot)('both backends', () => {
  it('teardown and GC clean rules of either backend', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await setupIpMasq(A, { runner, backend: 'iptables' });
    await setupIpMasq(B, { runner, backend: 'nftables' });
    expect((await listIpMasq({ runner })).map((e) => `${e.backend} ${e.containerId}`)).toEqual([
      'iptables ctr-abc123',
      'iptables ctr-abc123',
      'nftables ctr-def456',
      'nftables ctr-def456',
    ]);
    await teardownIpMasq(B, { runner });
    await gcIpMasq('mynet', [], { runner });
    expect(await listIpMasq({ runner })).toEqual([]);
    expect(await natDump(host, 4, 'default')).toEqual({ chains: [], rules: [] });
  });

  it('chooses iptables by default when it works', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await setupIpMasq(A, { runner });
    expect((await natDump(host, 4, 'default')).chains).toEqual(['CNI-b35254af8ad75f5ce3aedbb9']);
    await teardownIpMasq(A, { runner });
  });
});

describe.skipIf(!isRoot).each(['iptables', 'nftables'] as const)('masquerade traffic (%s)', (backend) => {
  it('lets a container reach a namespace that has no route back to it, and stops when torn down', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const { host, container } = netns;
    // The container behind a veth whose subnet only the host knows; `world` (192.0.2.254,
    // 2001:db8:ffff::fe) answers only what comes from the host's uplink address.
    await exec(host, ['ip', 'link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', container.name]);
    await exec(host, ['ip', 'addr', 'add', '10.66.0.1/24', 'dev', 'vc']);
    await exec(host, ['ip', 'addr', 'add', 'fd66::1/64', 'dev', 'vc', 'nodad']);
    await exec(host, ['ip', 'link', 'set', 'vc', 'up']);
    await exec(host, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    await exec(container, ['ip', 'addr', 'add', '10.66.0.2/24', 'dev', 'eth0']);
    await exec(container, ['ip', 'addr', 'add', 'fd66::2/64', 'dev', 'eth0', 'nodad']);
    await exec(container, ['ip', 'link', 'set', 'eth0', 'up']);
    await exec(container, ['ip', 'route', 'add', 'default', 'via', '10.66.0.1']);
    await exec(container, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd66::1']);
    const ping = async (target: string) =>
      (await exec(container, ['ping', '-c', '1', '-W', '1', target], { allowFailure: true })).exitCode === 0;
    // Neighbour discovery may cost the first echo: success is allowed a few tries.
    const reaches = async (target: string) => {
      for (let attempt = 0; attempt < 3; attempt++) if (await ping(target)) return true;
      return false;
    };

    expect(await ping('192.0.2.254')).toBe(false);
    expect(await ping('2001:db8:ffff::fe')).toBe(false);

    const runner = runnerIn(host);
    const attachment = { network: 'trafficnet', containerId: 'ctr-t', ifName: 'eth0', addresses: ['10.66.0.2/24', 'fd66::2/64'] };
    await setupIpMasq(attachment, { runner, backend });
    expect(await reaches('192.0.2.254')).toBe(true);
    expect(await reaches('2001:db8:ffff::fe')).toBe(true);
    // Inside its own subnet nothing is rewritten: the host sees the container's own address.
    expect(await reaches('10.66.0.1')).toBe(true);

    await teardownIpMasq(attachment, { runner });
    // Conntrack keeps the translation of a flow alive: each ping is a new ICMP id, so a new flow.
    expect(await ping('192.0.2.254')).toBe(false);
  });
});
