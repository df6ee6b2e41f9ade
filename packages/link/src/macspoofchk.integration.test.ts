// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { exec, readNftRuleset, useTestNetns, type TestNamespace } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { createCommandRunner, NetfilterValidationError } from '@cni/netfilter';
import { gcMacSpoofChecks, listMacSpoofChecks, setupMacSpoofCheck, teardownMacSpoofCheck } from './macspoofchk.ts';

const isRoot = process.getuid?.() === 0;

function runnerIn(ns: TestNamespace) {
  return createCommandRunner({ prefix: ['ip', 'netns', 'exec', ns.name] });
}

/** `nft list table bridge nat` as text, tabs and blank lines dropped; empty when there is no table. */
async function bridgeNat(ns: TestNamespace): Promise<string[]> {
  const { stdout, exitCode } = await exec(ns, ['nft', 'list', 'table', 'bridge', 'nat'], { allowFailure: true });
  if (exitCode !== 0) return [];
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

const first = { containerId: 'ctr-abc123', ifName: 'eth0', hostIfName: 'veth8fd70cae', mac: 'DE:B1:88:D5:6D:8A' };
const second = { containerId: 'ctr-def456', ifName: 'eth0', hostIfName: 'veth00000002', mac: '02:00:00:00:00:02' };

// The ruleset Debian's /usr/lib/cni/bridge (v1.1.1) wrote for `first` with macspoofchk on,
// read back with `nft list table bridge nat`.
const REFERENCE = [
  'table bridge nat {',
  'chain PREROUTING {',
  'type filter hook prerouting priority dstnat; policy accept;',
  'iifname "veth8fd70cae" jump cni-br-iface-ctr-abc123-eth0 comment "macspoofchk-ctr-abc123-eth0"',
  '}',
  'chain cni-br-iface-ctr-abc123-eth0 {',
  'jump cni-br-iface-ctr-abc123-eth0-mac comment "macspoofchk-ctr-abc123-eth0"',
  '}',
  'chain cni-br-iface-ctr-abc123-eth0-mac {',
  'ether saddr de:b1:88:d5:6d:8a return comment "macspoofchk-ctr-abc123-eth0"',
  'drop comment "macspoofchk-ctr-abc123-eth0"',
  '}',
  '}',
];
const EMPTY = ['table bridge nat {', 'chain PREROUTING {', 'type filter hook prerouting priority dstnat; policy accept;', '}', '}'];

describe.skipIf(!isRoot)('macspoofchk', () => {
  it("writes upstream's table, chains and rules, idempotently", async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await setupMacSpoofCheck(first, { runner });
    expect(await bridgeNat(host)).toEqual(REFERENCE);
    // Upstream adds a second PREROUTING rule here; a repeated setup must not.
    await setupMacSpoofCheck(first, { runner });
    expect(await bridgeNat(host)).toEqual(REFERENCE);

    await teardownMacSpoofCheck(first, { runner });
    // As upstream: the table and base chain stay, everything of the attachment goes.
    expect(await bridgeNat(host)).toEqual(EMPTY);
    await teardownMacSpoofCheck(first, { runner });
  });

  it('replaces the port and MAC of an attachment set up again', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await setupMacSpoofCheck(first, { runner });
    await setupMacSpoofCheck({ ...first, hostIfName: 'vethnew', mac: '02:00:00:00:00:09' }, { runner });
    const text = (await bridgeNat(host)).join('\n');
    expect(text).not.toContain('veth8fd70cae');
    expect(text).toContain('iifname "vethnew" jump cni-br-iface-ctr-abc123-eth0');
    expect(text).toContain('ether saddr 02:00:00:00:00:09 return');
    expect(text.match(/drop/g)).toHaveLength(1);
  });

  it("keeps one attachment's chains when another's are removed", async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await setupMacSpoofCheck(first, { runner });
    await setupMacSpoofCheck(second, { runner });
    await teardownMacSpoofCheck(second, { runner });
    expect(await bridgeNat(host)).toEqual(REFERENCE);
  });

  it('lists entries, and GC removes the stale ones it owns', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    const third = { containerId: 'ctr-xyz', ifName: 'net1', hostIfName: 'veth00000003', mac: '02:00:00:00:00:03' };
    await Promise.all([first, second, third].map((a) => setupMacSpoofCheck(a, { runner })));
    expect(await listMacSpoofChecks({ runner })).toEqual(
      expect.arrayContaining([
        {
          refId: 'ctr-abc123-eth0',
          chains: ['cni-br-iface-ctr-abc123-eth0', 'cni-br-iface-ctr-abc123-eth0-mac'],
          hostIfName: 'veth8fd70cae',
          mac: 'de:b1:88:d5:6d:8a',
        },
        expect.objectContaining({ refId: 'ctr-def456-eth0', hostIfName: 'veth00000002' }),
        expect.objectContaining({ refId: 'ctr-xyz-net1', hostIfName: 'veth00000003' }),
      ]),
    );

    // Only `first` is valid; the third belongs to another network (its port is not ours).
    const removed = await gcMacSpoofChecks([{ containerId: first.containerId, ifName: first.ifName }], {
      runner,
      owns: (entry) => entry.hostIfName !== 'veth00000003',
    });
    expect(removed.map((e) => e.refId)).toEqual(['ctr-def456-eth0']);
    expect((await listMacSpoofChecks({ runner })).map((e) => e.refId).sort()).toEqual(['ctr-abc123-eth0', 'ctr-xyz-net1']);

    await gcMacSpoofChecks([], { runner });
    expect(await bridgeNat(host)).toEqual(EMPTY);
  });

  it('finds and removes chains left without rules by a setup cut short', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    await exec(host, ['nft', 'add table bridge nat; add chain bridge nat cni-br-iface-c1-eth0; add chain bridge nat cni-br-iface-c1-eth0-mac']);
    expect(await listMacSpoofChecks({ runner })).toEqual([
      { refId: 'c1-eth0', chains: ['cni-br-iface-c1-eth0', 'cni-br-iface-c1-eth0-mac'], hostIfName: undefined, mac: undefined },
    ]);
    await teardownMacSpoofCheck({ refId: 'c1-eth0' }, { runner });
    expect(await bridgeNat(host)).toEqual(['table bridge nat {', '}']);
  });

  it('refuses bad input before running anything', async () => {
    const { host } = await useTestNetns({ container: false });
    const runner = runnerIn(host);
    for (const bad of [
      { ...first, hostIfName: 'veth" drop' },
      { ...first, hostIfName: '@allowed' },
      { ...first, mac: 'de:b1:88:d5:6d' },
      { ...first, containerId: '../x' },
      { ...first, ifName: 'a'.repeat(16) },
    ]) {
      await expect(setupMacSpoofCheck(bad, { runner })).rejects.toSatisfy(NetfilterValidationError.isInstance);
    }
    expect(await readNftRuleset(host)).toEqual([]);
  });

  it('drops frames with another source MAC on a real bridge port', async () => {
    const netns = await useTestNetns();
    const { host, container } = netns;
    // A bridge in the host namespace with the container's veth on it and an address to ping.
    await exec(host, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await exec(host, ['ip', 'addr', 'add', '10.55.0.1/24', 'dev', 'br0']);
    await exec(host, ['ip', 'link', 'set', 'br0', 'up']);
    await exec(host, ['ip', 'link', 'add', 'vethc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', container.name]);
    await exec(host, ['ip', 'link', 'set', 'vethc', 'master', 'br0', 'up']);
    await exec(container, ['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:aa', 'up']);
    await exec(container, ['ip', 'addr', 'add', '10.55.0.2/24', 'dev', 'eth0']);
    const ping = () => exec(container, ['ping', '-c', '1', '-W', '1', '10.55.0.1'], { allowFailure: true });
    // A port just made up may lose the first frames: success is allowed a few tries.
    const reaches = async () => {
      for (let attempt = 0; attempt < 3; attempt++) if ((await ping()).exitCode === 0) return true;
      return false;
    };
    expect(await reaches()).toBe(true);

    const runner = runnerIn(host);
    await setupMacSpoofCheck({ containerId: 'c1', ifName: 'eth0', hostIfName: 'vethc', mac: '02:00:00:00:00:aa' }, { runner });
    expect(await reaches()).toBe(true);
    // The container forges another MAC: the port drops its frames.
    await exec(container, ['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:bb']);
    await exec(container, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await exec(host, ['ip', 'neigh', 'flush', 'dev', 'br0']);
    expect((await ping()).exitCode).not.toBe(0);
    await teardownMacSpoofCheck({ containerId: 'c1', ifName: 'eth0' }, { runner });
    // The host may still answer to the old MAC it learnt: forget it.
    await exec(host, ['ip', 'neigh', 'flush', 'dev', 'br0']);
    expect(await reaches()).toBe(true);
  });

  it('removes what the Debian reference bridge wrote', { skip: !existsSync('/usr/lib/cni/bridge') }, async () => {
    const netns = await useTestNetns();
    const conf = JSON.stringify({ cniVersion: '0.4.0', name: 'l2net', type: 'bridge', bridge: 'cnitest1', macspoofchk: true });
    const env = {
      PATH: process.env.PATH,
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'ctr-ref',
      CNI_NETNS: netns.container.path,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
    };
    const { stdout } = await netns.execHost(['/usr/lib/cni/bridge'], { input: conf, env });
    const result = JSON.parse(stdout) as { interfaces: { name: string; mac: string }[] };
    const runner = runnerIn(netns.host);
    expect(await listMacSpoofChecks({ runner })).toEqual([
      {
        refId: 'ctr-ref-eth0',
        chains: ['cni-br-iface-ctr-ref-eth0', 'cni-br-iface-ctr-ref-eth0-mac'],
        hostIfName: result.interfaces[1]!.name,
        mac: result.interfaces[2]!.mac,
      },
    ]);
    await teardownMacSpoofCheck({ containerId: 'ctr-ref', ifName: 'eth0' }, { runner });
    expect(await bridgeNat(netns.host)).toEqual(EMPTY);
    await netns.execHost(['ip', 'link', 'del', 'cnitest1']);
  });
});
