// SPDX-License-Identifier: Apache-2.0
// DEL without a namespace, a failed ADD, CHECK's messages, STATUS, GC, and Debian's v1.1.1 bridge
// side by side with ours.
import { execPlugin, readAddressList, readIptablesSave, readLink, readLinks, readNftRuleset, readRoutes, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { DEBIAN, STAYS, leases, netConf, normaliseResult, bridgeRunner } from './__tests__/helpers.ts';

const runBridge = bridgeRunner(execPlugin);

const ports = async (netns: TestNetns) => (await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth'));

describe.skipIf(process.getuid?.() !== 0)('bridge lifecycle on the host kernel', () => {
  it('succeeds DEL when the namespace is gone, releasing the lease, the masquerade rules and the spoof check', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.0.0', { isGateway: true, ipMasq: true, macspoofchk: true });
    expect((await runBridge(netns, { command: 'ADD', containerId: 'gone1', conf })).error).toBeUndefined();
    await netns.execHost(['ip', 'netns', 'del', netns.container.name]);
    expect((await runBridge(netns, { command: 'DEL', containerId: 'gone1', conf })).error).toBeUndefined();
    expect(leases(netns)).toEqual([]);
    expect(await readIptablesSave(netns.host, { table: 'nat' })).not.toContain('gone1');
    expect(JSON.stringify(await readNftRuleset(netns.host))).not.toContain('gone1');
    expect((await runBridge(netns, { command: 'DEL', containerId: 'gone1', conf: { ...conf }, netns: '' })).error).toBeUndefined();
  });

  it('refuses ADD into a namespace that does not exist with code 3, making no bridge', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const r = await runBridge(netns, { command: 'ADD', netns: '/var/run/netns/cnitest-absent', conf: netConf(netns, '1.1.0', { isGateway: true }) });
    expect(r.error).toEqual({ code: 3, msg: 'failed to open netns "/var/run/netns/cnitest-absent": no such file or directory' });
    expect(leases(netns)).toEqual([]);
    await netns.expectNoLeaks(before);
  });

  it('removes what a failed ADD made: the container already has the interface', async () => {
    const netns = await useTestNetns();
    await netns.execHost(['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
    await netns.execContainer(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
    const before = await netns.snapshot();
    const r = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isGateway: true, ipMasq: true, macspoofchk: true }) });
    expect(r.error).toEqual({ code: 999, msg: `container veth name "eth0" already exists in netns "${netns.container.path}"` });
    expect(leases(netns)).toEqual([]);
    await netns.expectNoLeaks(before, { ignore: [/cni0/] });
  });

  it('removes what a failed ADD made after IPAM: the lease, the spoof check and the veth', async () => {
    const netns = await useTestNetns();
    await netns.execHost(['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
    await netns.execHost(['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'cni0']);
    await netns.execHost(['ip', 'link', 'set', 'cni0', 'up']);
    const before = await netns.snapshot();
    const r = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isGateway: true, macspoofchk: true }) });
    expect(r.error?.msg).toBe('failed to set bridge addr: "cni0" already has an IP address different from 10.88.0.1/24');
    expect(leases(netns)).toEqual([]);
    expect(await ports(netns)).toEqual([]);
    await netns.expectNoLeaks(before, { ignore: [/nftTables: bridge nat$/] });
    expect(JSON.stringify(await readNftRuleset(netns.host))).not.toContain('macspoofchk');
  });

  it('tags the host veth within the kernel alias limit for a long network name, and GC reads the tag (issue 22)', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    // 64-character container ID and a 200-character network name: the full tag would be 283 bytes.
    const containerId = 'c'.repeat(64);
    const name = `n${'x'.repeat(199)}`;
    const conf = { ...netConf(netns, '1.1.0', { isGateway: true }), name };
    const added = await runBridge(netns, { command: 'ADD', containerId, conf });
    expect(added.error).toBeUndefined();
    const [port] = await ports(netns);
    expect(port).toBeDefined();
    const alias = String((await readLink(netns.host, port!.ifname))?.["ifalias"]);
    expect(Buffer.byteLength(alias)).toBeLessThanOrEqual(255);
    expect(alias).toMatch(/^cni\/bridge\/#[0-9a-f]{16}\/[0-9a-f]{32}$/);
    // GC keeps the live attachment and removes it once it is no longer listed.
    const keep = await runBridge(netns, { command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: containerId, ifname: 'eth0' }] } });
    expect(keep.error).toBeUndefined();
    expect(await ports(netns)).toHaveLength(1);
    expect((await runBridge(netns, { command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [] } })).error).toBeUndefined();
    expect(await ports(netns)).toEqual([]);
    expect((await runBridge(netns, { command: 'DEL', containerId, conf })).error).toBeUndefined();
    expect(leases(netns, name)).toEqual([]);
    await netns.expectNoLeaks(before, { ignore: STAYS });
  });

  it('fails CHECK naming what differs', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.0.0', { isDefaultGateway: true });
    const added = await runBridge(netns, { command: 'ADD', conf });
    const check = async (prevResult: unknown) => (await runBridge(netns, { command: 'CHECK', conf: { ...conf, prevResult } })).error?.msg;
    const result = added.result as { interfaces: { name: string; mac: string }[] };

    expect(await check(undefined)).toBe('required prevResult missing');
    const wrongMac = structuredClone(result);
    wrongMac.interfaces[2]!.mac = '02:00:00:00:00:01';
    expect(await check(wrongMac)).toBe(`interface eth0 mac 02:00:00:00:00:01 doesn't match container mac: ${result.interfaces[2]!.mac}`);
    const noBridge = structuredClone(result);
    noBridge.interfaces[0]!.name = 'br-other';
    expect(await check(noBridge)).toBe('CNI created bridge cni0 in host namespace was not found');

    await netns.execContainer(['ip', 'route', 'del', 'default']);
    expect(await check(added.result)).toBe('expected route 0.0.0.0/0 via 10.88.0.1 not found in routing table');
    await netns.execContainer(['ip', 'addr', 'flush', 'dev', 'eth0']);
    expect(await check(added.result)).toBe('failed to match addr 10.88.0.2/24 on interface eth0');
    await netns.execHost(['ip', 'link', 'set', (await ports(netns))[0]!.ifname, 'nomaster']);
    expect(await check(added.result)).toBe('CNI veth created for bridge cni0 was not found');
  });

  it('answers STATUS through its IPAM plugin', async () => {
    const netns = await useTestNetns();
    expect((await runBridge(netns, { command: 'STATUS', conf: netConf(netns, '1.1.0') })).exitCode).toBe(0);
  });

  it('GC removes the lease, masquerade rules, spoof check and host veth of stale attachments and keeps the live one', async () => {
    const netns = await useTestNetns();
    const stale = await useTestNetns({ leakCheck: false });
    const conf = netConf(netns, '1.1.0', { isGateway: true, ipMasq: true, macspoofchk: true });
    expect((await runBridge(netns, { command: 'ADD', containerId: 'live', conf })).error).toBeUndefined();
    expect((await runBridge(netns, { command: 'ADD', containerId: 'stale', container: stale.container, conf })).error).toBeUndefined();
    // Another network on the same bridge: its attachment is not this GC's to remove.
    const other = { ...netConf(netns, '1.1.0', { isGateway: true, macspoofchk: true }), name: 'othernet' };
    expect((await runBridge(netns, { command: 'ADD', containerId: 'other', ifName: 'eth1', conf: other })).error).toBeUndefined();
    expect(await ports(netns)).toHaveLength(3);

    const gc = await runBridge(netns, { command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] } });
    expect(gc.error).toBeUndefined();
    expect(await ports(netns)).toHaveLength(2);
    expect(await readLink(stale.container, 'eth0')).toBeUndefined();
    expect(await readLink(netns.container, 'eth0')).toBeDefined();
    expect(await readLink(netns.container, 'eth1')).toBeDefined();
    expect(leases(netns)).toEqual(['10.88.0.2']);
    const nat = await readIptablesSave(netns.host, { table: 'nat' });
    expect(nat).toContain('id: \\"live\\"');
    expect(nat).not.toContain('id: \\"stale\\"');
    const ruleset = JSON.stringify(await readNftRuleset(netns.host));
    expect(ruleset).toContain('macspoofchk-live-eth0');
    expect(ruleset).toContain('macspoofchk-other-eth1');
    expect(ruleset).not.toContain('macspoofchk-stale-eth0');
    await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);
  });

  // Debian's v1.1.1 bridge answers for isGateway, isDefaultGateway, ipMasq (iptables), hairpinMode,
  // mtu, enabledad and the config's dns (reference-features.md section 4), up to spec 1.0.0. Each
  // side uses its own host-local. Compared: the result (generated names and MACs aside, 1.0.0's
  // empty dns left out), the container's addresses, routes and the sysctls the plugin sets, and
  // the gateway on the bridge.
  describe.each(['0.2.0', '0.3.1', '0.4.0', '1.0.0'])("[%s] against Debian's bridge", (version) => {
    it('gives the same result and container state', async () => {
      const ours = await useTestNetns();
      const theirs = await useTestNetns();
      const extra = { isDefaultGateway: true, ipMasq: true, hairpinMode: true, mtu: 1400, enabledad: true, dns: { nameservers: ['10.88.0.53'] } };
      const subnets = ['10.88.0.0/24', 'fd88::/64'];
      const a = await runBridge(ours, { command: 'ADD', conf: netConf(ours, version, extra, subnets) });
      const b = await execPlugin(`${DEBIAN}/bridge`, {
        command: 'ADD',
        netns: theirs.container,
        hostNetns: theirs.host,
        cniPath: DEBIAN,
        conf: netConf(theirs, version, extra, subnets),
      });
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      expect(normaliseResult(a.result, ours.container.path)).toEqual(normaliseResult(b.result, theirs.container.path));
      const state = async (netns: TestNetns) => ({
        addresses: await readAddressList(netns.container, 'eth0'),
        routes: [...(await readRoutes(netns.container)), ...(await readRoutes(netns.container, { family: 6 }))],
        mtu: (await readLink(netns.container, 'eth0'))?.mtu,
        sysctls: (
          await netns.execContainer([
            'cat',
            '/proc/sys/net/ipv6/conf/eth0/enhanced_dad',
            '/proc/sys/net/ipv6/conf/eth0/accept_dad',
            '/proc/sys/net/ipv4/conf/eth0/arp_notify',
            '/proc/sys/net/ipv6/conf/eth0/disable_ipv6',
          ])
        ).stdout,
        bridge: await readAddressList(netns.host, 'cni0'),
        port: (await ports(netns))[0]?.linkinfo?.info_slave_data?.['hairpin'],
      });
      expect(await state(ours)).toEqual(await state(theirs));
    });
  });
});
