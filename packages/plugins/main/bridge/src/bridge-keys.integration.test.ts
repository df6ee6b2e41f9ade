// SPDX-License-Identifier: Apache-2.0
// One test (or more) per configuration key of the bridge plugin, each through the built executable
// in the test's own namespaces, checked with iproute2, nft and iptables-save, and with traffic where
// it says something.
import { execPlugin, readAddressList, readIptablesSave, readLink, readLinks, readNftRuleset, readRoutes, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { STAYS, leases, netConf, bridgeRunner } from './__tests__/helpers.ts';

const runBridge = bridgeRunner(execPlugin);

async function hostPort(netns: TestNetns) {
  return (await readLinks(netns.host)).find((link) => link.ifname.startsWith('veth'))!;
}

async function sysctl(netns: TestNetns, key: string): Promise<string> {
  return (await netns.execContainer(['cat', `/proc/sys/${key}`])).stdout.trim();
}

describe.skipIf(process.getuid?.() !== 0)('bridge keys on the host kernel', () => {
  it('bridge: uses the named bridge, and refuses an existing link of another kind, leaving nothing', async () => {
    const netns = await useTestNetns();
    expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { bridge: 'br-pods' }) })).error).toBeUndefined();
    expect((await hostPort(netns)).master).toBe('br-pods');
    expect(await readLink(netns.host, 'cni0')).toBeUndefined();

    await netns.execHost(['ip', 'link', 'add', 'notabridge', 'type', 'veth', 'peer', 'name', 'notabridge-p']);
    const before = await netns.snapshot();
    const failed = await runBridge(netns, { command: 'ADD', containerId: 'c2', ifName: 'eth1', conf: netConf(netns, '1.1.0', { bridge: 'notabridge' }) });
    expect(failed.error).toEqual({ code: 999, msg: 'failed to create bridge "notabridge": "notabridge" already exists but is not a bridge' });
    await netns.expectNoLeaks(before);
  });

  it('isGateway: the gateway on the bridge, no default route without isDefaultGateway', async () => {
    const netns = await useTestNetns();
    const added = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isGateway: true }) });
    expect(added.result).toMatchObject({ ips: [{ address: '10.88.0.2/24', gateway: '10.88.0.1', interface: 2 }] });
    expect((added.result as { routes?: unknown }).routes).toBeUndefined();
    expect(await readAddressList(netns.host, 'cni0', 4)).toEqual(['10.88.0.1/24']);
    expect((await readRoutes(netns.container, { family: 4 })).map((route) => route.dst)).toEqual(['10.88.0.0/24']);
    expect((await netns.execHost(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('1');
    await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);
  });

  it('without isGateway: no address on the bridge and the IPAM gateway left as it is', async () => {
    const netns = await useTestNetns();
    const added = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0') });
    expect(added.result).toMatchObject({ ips: [{ address: '10.88.0.2/24', gateway: '10.88.0.1' }] });
    expect(await readAddressList(netns.host, 'cni0', 4)).toEqual([]);
  });

  it('isDefaultGateway: keeps an IPAM default route that names its gateway, on IPv4 and IPv6', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.1.0', { isDefaultGateway: true }, ['10.88.0.0/24', 'fd88::/64']);
    (conf.ipam as Record<string, unknown>)['routes'] = [{ dst: '0.0.0.0/0', gw: '10.88.0.254' }];
    const added = await runBridge(netns, { command: 'ADD', conf });
    expect(added.error).toBeUndefined();
    expect((added.result as { routes: unknown }).routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.88.0.254' },
      { dst: '::/0', gw: 'fd88::1' },
    ]);
    expect((await readRoutes(netns.container, { family: 4 })).find((route) => route.dst === 'default')?.gateway).toBe('10.88.0.254');
    expect((await readRoutes(netns.container, { family: 6 })).find((route) => route.dst === 'default')?.gateway).toBe('fd88::1');
    expect(await readAddressList(netns.host, 'cni0')).toEqual(['10.88.0.1/24', 'fd88::1/64']);
  });

  it('forceAddress: replaces a different bridge address, which without it is an error that leaves nothing', async () => {
    const netns = await useTestNetns();
    await netns.execHost(['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
    await netns.execHost(['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'cni0']);
    await netns.execHost(['ip', 'link', 'set', 'cni0', 'up']);
    const before = await netns.snapshot();
    const refused = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isGateway: true }) });
    expect(refused.error).toEqual({ code: 999, msg: 'failed to set bridge addr: "cni0" already has an IP address different from 10.88.0.1/24' });
    expect(leases(netns)).toEqual([]);
    await netns.expectNoLeaks(before);

    const forced = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isGateway: true, forceAddress: true }) });
    expect(forced.error).toBeUndefined();
    expect(await readAddressList(netns.host, 'cni0', 4)).toEqual(['10.88.0.1/24']);
  });

  it('mtu: on a new bridge and both veth ends', async () => {
    const netns = await useTestNetns();
    expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { mtu: 1400 }) })).error).toBeUndefined();
    expect((await readLink(netns.host, 'cni0'))?.mtu).toBe(1400);
    expect((await hostPort(netns)).mtu).toBe(1400);
    expect((await readLink(netns.container, 'eth0'))?.mtu).toBe(1400);
  });

  it('hairpinMode and portIsolation: the port flags; isolated pods reach the gateway but not each other', async () => {
    const netns = await useTestNetns();
    const second = await useTestNetns({ leakCheck: false });
    const conf = netConf(netns, '1.1.0', { isGateway: true, hairpinMode: true, portIsolation: true });
    expect((await runBridge(netns, { command: 'ADD', containerId: 'pod1', conf })).error).toBeUndefined();
    expect((await runBridge(netns, { command: 'ADD', containerId: 'pod2', container: second.container, conf })).error).toBeUndefined();
    for (const port of (await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth'))) {
      expect(port.linkinfo?.info_slave_data).toMatchObject({ hairpin: true, isolated: true });
    }
    await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);
    expect((await netns.execContainer(['ping', '-c1', '-W1', '10.88.0.3'], { allowFailure: true })).exitCode).not.toBe(0);
  });

  it('without hairpinMode and portIsolation the port flags are off', async () => {
    const netns = await useTestNetns();
    expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0') })).error).toBeUndefined();
    expect((await hostPort(netns)).linkinfo?.info_slave_data).toMatchObject({ hairpin: false, isolated: false });
    expect((await readLink(netns.host, 'cni0'))?.promiscuity).toBe(0);
  });

  it('promiscMode: the bridge is promiscuous, and CHECK says so when it is not', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.0.0', { promiscMode: true });
    const added = await runBridge(netns, { command: 'ADD', conf });
    expect((await readLink(netns.host, 'cni0'))?.promiscuity).toBeGreaterThan(0);
    await netns.execHost(['ip', 'link', 'set', 'cni0', 'promisc', 'off']);
    const checked = await runBridge(netns, { command: 'CHECK', conf: { ...conf, prevResult: added.result } });
    expect(checked.error?.msg).toBe('bridge interface cni0 configured promisc mode true doesn\'t match current state: false');
  });

  it('hairpinMode with promiscMode is refused before anything is made', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const r = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { hairpinMode: true, promiscMode: true }) });
    expect(r.error).toEqual({ code: 7, msg: 'cannot set hairpin mode and promiscuous mode at the same time' });
    await netns.expectNoLeaks(before);
  });

  it('enabledad: the container sysctls as upstream sets them, and without it accept_dad=0', async () => {
    const netns = await useTestNetns();
    const second = await useTestNetns({ leakCheck: false });
    expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { enabledad: true }) })).error).toBeUndefined();
    expect(await sysctl(netns, 'net/ipv6/conf/eth0/enhanced_dad')).toBe('1');
    expect(await sysctl(netns, 'net/ipv6/conf/eth0/accept_dad')).toBe('1');
    expect(await sysctl(netns, 'net/ipv4/conf/eth0/arp_notify')).toBe('1');
    expect((await runBridge(netns, { command: 'ADD', containerId: 'c2', container: second.container, conf: netConf(netns, '1.1.0') })).error).toBeUndefined();
    expect(await sysctl(second, 'net/ipv6/conf/eth0/accept_dad')).toBe('0');
  });

  it('macspoofchk: the nftables chains, and a container that changes its MAC is cut off', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.1.0', { isGateway: true, macspoofchk: true });
    expect((await runBridge(netns, { command: 'ADD', containerId: 'spoof1', conf })).error).toBeUndefined();
    const mac = (await readLink(netns.container, 'eth0'))!.address;
    const ruleset = JSON.stringify(await readNftRuleset(netns.host));
    expect(ruleset).toContain('cni-br-iface-spoof1-eth0-mac');
    expect(ruleset).toContain(mac);
    await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);
    await netns.execContainer(['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:99']);
    await netns.execContainer(['ip', 'neigh', 'flush', 'all']);
    await netns.execHost(['ip', 'neigh', 'flush', 'all']);
    expect((await netns.execContainer(['ping', '-c1', '-W1', '10.88.0.1'], { allowFailure: true })).exitCode).not.toBe(0);

    expect((await runBridge(netns, { command: 'DEL', containerId: 'spoof1', conf })).error).toBeUndefined();
    expect(JSON.stringify(await readNftRuleset(netns.host))).not.toContain('spoof1');
  });

  it('ipMasq: masquerades a pod to a namespace beyond the host with iptables and with nftables; DEL removes the rules', async () => {
    for (const backend of ['iptables', 'nftables'] as const) {
      const netns = await useTestNetns({ defaultRoute: true });
      const before = await netns.snapshot();
      const conf = netConf(netns, '1.1.0', { isDefaultGateway: true, ipMasq: true, ipMasqBackend: backend });
      expect((await runBridge(netns, { command: 'ADD', containerId: 'masq1', conf })).error).toBeUndefined();
      if (backend === 'iptables') {
        expect(await readIptablesSave(netns.host, { table: 'nat' })).toMatch(/-A POSTROUTING -s 10\.88\.0\.2\/32 -m comment --comment "name: \\"brnet\\" id: \\"masq1\\"" -j CNI-/);
      } else {
        expect(JSON.stringify(await readNftRuleset(netns.host))).toMatch(/cni_plugins_masquerade.*10\.88\.0\.2/);
      }
      await netns.execContainer(['ping', '-c1', '-W2', '192.0.2.254']);
      expect((await runBridge(netns, { command: 'DEL', containerId: 'masq1', conf })).error).toBeUndefined();
      expect(await readIptablesSave(netns.host, { table: 'nat' })).not.toContain('brnet');
      expect(JSON.stringify(await readNftRuleset(netns.host))).not.toContain('10.88.0.2');
      await netns.expectNoLeaks(before, { ignore: STAYS });
    }
  });

  it('without ipMasq a pod does not reach beyond the host', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { isDefaultGateway: true }) })).error).toBeUndefined();
    expect((await netns.execContainer(['ping', '-c1', '-W1', '192.0.2.254'], { allowFailure: true })).exitCode).not.toBe(0);
  });

  it('disableContainerInterface: layer 2 with the container end left down', async () => {
    const netns = await useTestNetns();
    const conf = { cniVersion: '1.1.0', name: 'brnet', type: 'bridge', disableContainerInterface: true };
    const added = await runBridge(netns, { command: 'ADD', conf });
    expect(added.error).toBeUndefined();
    expect((await readLink(netns.container, 'eth0'))?.flags).not.toContain('UP');
    expect((added.result as { ips?: unknown }).ips).toBeUndefined();
  });

  it('layer 2 only without IPAM: the container end up, no address, interfaces only; 0.2.0 cannot carry it', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const conf = { cniVersion: '1.0.0', name: 'brnet', type: 'bridge' };
    const added = await runBridge(netns, { command: 'ADD', conf });
    expect(added.error).toBeUndefined();
    expect(added.result).toEqual({ cniVersion: '1.0.0', interfaces: [expect.objectContaining({ name: 'cni0' }), expect.anything(), expect.objectContaining({ name: 'eth0' })] });
    expect((await readLink(netns.container, 'eth0'))?.flags).toContain('UP');
    expect(await readAddressList(netns.container, 'eth0')).toEqual([]);
    expect((await runBridge(netns, { command: 'CHECK', conf: { ...conf, prevResult: added.result } })).error).toBeUndefined();
    expect((await runBridge(netns, { command: 'DEL', conf })).error).toBeUndefined();
    await netns.expectNoLeaks(before, { ignore: STAYS });

    const old = await runBridge(netns, { command: 'ADD', conf: { ...conf, cniVersion: '0.2.0' } });
    expect(old.error?.msg).toContain('no valid IP addresses');
  });

  it('dns: the configuration\'s replaces the IPAM plugin\'s', async () => {
    const netns = await useTestNetns();
    const dns = { nameservers: ['10.88.0.53'], domain: 'pods.local', search: ['pods.local'], options: ['ndots:2'] };
    const added = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { dns }) });
    expect((added.result as { dns: unknown }).dns).toEqual(dns);
  });

  // IgnoreUnknown=1 as runtimes send it: host-local, like upstream's, refuses a MAC key otherwise.
  it('MAC: runtimeConfig.mac over args.cni.mac over CNI_ARGS MAC', async () => {
    const netns = await useTestNetns();
    const cases = [
      { extra: { runtimeConfig: { mac: '0a:58:0a:58:00:01' }, args: { cni: { mac: '0a:58:0a:58:00:02' } } }, args: 'IgnoreUnknown=1;MAC=0a:58:0a:58:00:03', mac: '0a:58:0a:58:00:01' },
      { extra: { args: { cni: { mac: '0a:58:0a:58:00:02' } } }, args: 'IgnoreUnknown=1;MAC=0a:58:0a:58:00:03', mac: '0a:58:0a:58:00:02' },
      { extra: {}, args: 'IgnoreUnknown=1;K8S_POD_NAME=x;MAC=0a:58:0a:58:00:03', mac: '0a:58:0a:58:00:03' },
    ];
    for (const [index, { extra, args, mac }] of cases.entries()) {
      const ifName = `eth${index}`;
      const added = await runBridge(netns, { command: 'ADD', containerId: `mac${index}`, ifName, args, conf: netConf(netns, '1.1.0', extra) });
      expect(added.error).toBeUndefined();
      expect((await readLink(netns.container, ifName))?.address).toBe(mac);
      expect((added.result as { interfaces: { mac: string }[] }).interfaces[2]?.mac).toBe(mac);
    }
  });

  it('refuses bad input naming the key and value, leaving nothing behind', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const bad: [Record<string, unknown>, string][] = [
      [{ vlan: 4095 }, 'invalid vlan 4095, must be an integer in [0, 4094]'],
      [{ vlanTrunk: [{ minID: 300, maxID: 200 }] }, 'vlanTrunk[0]: minID 300 is greater than maxID 200'],
      [{ ipMasqBackend: 'ipfw' }, 'invalid ipMasqBackend "ipfw", must be one of "iptables", "nftables"'],
      [{ mtu: -5 }, 'invalid mtu -5, must be an integer in [0, 65535]'],
      [{ disableContainerInterface: true }, 'cannot use IPAM when DisableContainerInterface flag is set'],
    ];
    for (const [extra, msg] of bad) {
      expect((await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', extra) })).error).toEqual({ code: 7, msg });
    }
    await netns.expectNoLeaks(before);
  });

  it('vlan on this host kernel, which lacks bridge VLAN filtering: a clear error and nothing left', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const r = await runBridge(netns, { command: 'ADD', conf: netConf(netns, '1.1.0', { vlan: 100 }) });
    expect(r.error?.msg).toMatch(/^failed to create bridge "cni0": could not add "cni0": /);
    await netns.expectNoLeaks(before);
  });
});
