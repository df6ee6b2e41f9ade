// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import {
  execPlugin,
  readAddressList,
  readIptablesSave,
  readLink,
  readLinks,
  readNftRuleset,
  readRoutes,
  useTestNetns,
  type PluginRunOptions,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const DEBIAN = '/usr/lib/cni';

function netConf(netns: TestNetns, cniVersion: string, extra: Record<string, unknown> = {}, subnets = ['10.77.0.0/24']) {
  return {
    cniVersion,
    name: 'ptpnet',
    type: 'ptp',
    ipam: { type: 'host-local', dataDir: netns.dir, ranges: subnets.map((subnet) => [{ subnet }]), routes: [{ dst: '0.0.0.0/0' }] },
    ...extra,
  };
}

/** The built executable in the test's host namespace, IPAM from the bundle too. */
function ptp(netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) {
  return execPlugin(`${BIN}/ptp`, { netns: netns.container, hostNetns: netns.host, cniPath: BIN, ...options });
}

/** The lease files host-local keeps for the network. */
function leases(netns: TestNetns): string[] {
  const dir = `${netns.dir}/ptpnet`;
  return existsSync(dir) ? readdirSync(dir).filter((file) => isIP(file) !== 0) : [];
}

/** What a result must say in each spec version, MACs and the host veth's name aside. */
function expectResultShape(version: string, result: unknown, netns: TestNetns): void {
  if (version === '0.1.0' || version === '0.2.0') {
    expect(result).toEqual({ cniVersion: version, ip4: { ip: '10.77.0.2/24', gateway: '10.77.0.1', routes: [{ dst: '0.0.0.0/0' }] }, dns: {} });
    return;
  }
  const legacy = version.startsWith('0.');
  expect(result).toEqual({
    cniVersion: version,
    interfaces: [
      { name: expect.stringMatching(/^veth[0-9a-f]{8}$/), mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) },
      { name: 'eth0', mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), sandbox: netns.container.path },
    ],
    ips: [{ ...(legacy ? { version: '4' } : {}), interface: 1, address: '10.77.0.2/24', gateway: '10.77.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    ...(legacy ? { dns: {} } : {}),
  });
}

/** The container's routes as upstream's ptp sets them: via the gateway, which is on the link. */
async function containerRoutes(netns: TestNetns) {
  return (await readRoutes(netns.container, { family: 4 })).map(({ dst, gateway, scope, prefsrc, dev }) => ({ dst, gateway, scope, prefsrc, dev }));
}

/**
 * What masquerading leaves on purpose: the (empty) nat table iptables made, and nftables'
 * shared table, which upstream also keeps once made.
 */
const NAT_STAYS = [/nftTables: ip6? nat$/, /nftTables: inet cni_plugins_masquerade$/, /iptables.* nat/];

const EXPECTED_CONTAINER_ROUTES = [
  { dst: 'default', gateway: '10.77.0.1', scope: undefined, prefsrc: undefined, dev: 'eth0' },
  { dst: '10.77.0.0/24', gateway: '10.77.0.1', scope: undefined, prefsrc: '10.77.0.2', dev: 'eth0' },
  { dst: '10.77.0.1', gateway: undefined, scope: 'link', prefsrc: '10.77.0.2', dev: 'eth0' },
];

describe.skipIf(process.getuid?.() !== 0)('ptp on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] ptp', (version) => {
    it('adds, checks and deletes a point-to-point attachment (built executable)', async () => {
      const netns = await useTestNetns();
      const before = await netns.snapshot();
      const conf = netConf(netns, version, { mtu: 1400 });

      const added = await ptp(netns, { command: 'ADD', conf });
      expect(added.error).toBeUndefined();
      expectResultShape(version, added.result, netns);

      const eth0 = await readLink(netns.container, 'eth0');
      expect(eth0).toMatchObject({ mtu: 1400, operstate: 'UP', linkinfo: { info_kind: 'veth' } });
      expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.77.0.2/24']);
      expect(await containerRoutes(netns)).toEqual(EXPECTED_CONTAINER_ROUTES);
      const hostVeth = (await readLinks(netns.host)).find((link) => link.ifname.startsWith('veth'))!;
      expect(hostVeth).toMatchObject({ mtu: 1400, operstate: 'UP' });
      expect(await readAddressList(netns.host, hostVeth.ifname, 4)).toEqual(['10.77.0.1/32']);
      expect((await readRoutes(netns.host, { family: 4 })).map(({ dst, dev, scope }) => ({ dst, dev, scope }))).toEqual([
        { dst: '10.77.0.2', dev: hostVeth.ifname, scope: 'host' },
      ]);
      expect((await netns.execHost(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('1');
      await netns.execContainer(['ping', '-c1', '-W2', '10.77.0.1']);

      if (specVersionHas('check', version)) {
        const checked = await ptp(netns, { command: 'CHECK', conf: { ...conf, prevResult: added.result } });
        expect(checked.error).toBeUndefined();
      }

      expect((await ptp(netns, { command: 'DEL', conf: { ...conf, prevResult: added.result } })).error).toBeUndefined();
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      expect(leases(netns)).toEqual([]);
      expect((await ptp(netns, { command: 'DEL', conf })).error).toBeUndefined();
      await netns.expectNoLeaks(before);
    });
  });

  it('sets up IPv4 and IPv6 together, and without ipMasq a pod does not reach beyond the host', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const added = await ptp(netns, { command: 'ADD', conf: netConf(netns, '1.0.0', {}, ['10.77.0.0/24', 'fd77::/64']) });
    expect(added.error).toBeUndefined();
    expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.77.0.2/24', 'fd77::2/64']);
    const v6 = (await readRoutes(netns.container, { family: 6 })).filter((route) => !route.dst.startsWith('fe80')).map(({ dst, gateway }) => ({ dst, gateway }));
    expect(v6).toEqual([
      { dst: 'fd77::1', gateway: undefined },
      { dst: 'fd77::/64', gateway: 'fd77::1' },
    ]);
    await netns.execContainer(['ping', '-c1', '-W3', 'fd77::1']);
    // The world namespace has no route back to the pod: unmasqueraded, the echo gets no answer.
    expect((await netns.execContainer(['ping', '-c1', '-W1', '192.0.2.254'], { allowFailure: true })).exitCode).not.toBe(0);
  });

  it.each(['iptables', 'nftables'] as const)('masquerades a pod to a namespace beyond the host with %s, and DEL removes the rules', async (backend) => {
    const netns = await useTestNetns({ defaultRoute: true });
    const before = await netns.snapshot();
    const conf = netConf(netns, '1.1.0', { ipMasq: true, ipMasqBackend: backend });
    const added = await ptp(netns, { command: 'ADD', containerId: 'masq1', conf });
    expect(added.error).toBeUndefined();
    if (backend === 'iptables') {
      const nat = await readIptablesSave(netns.host, { table: 'nat' });
      expect(nat).toMatch(/-A POSTROUTING -s 10\.77\.0\.2\/32 -m comment --comment "name: \\"ptpnet\\" id: \\"masq1\\"" -j CNI-[0-9a-f]{24}/);
      expect(nat).toMatch(/! -d 224\.0\.0\.0\/4 .* -j MASQUERADE/);
    } else {
      const ruleset = JSON.stringify(await readNftRuleset(netns.host));
      expect(ruleset).toContain('cni_plugins_masquerade');
      expect(ruleset).toContain('10.77.0.2');
    }
    // The world namespace has no route back to 10.77.0.0/24: only a masqueraded ping is answered.
    await netns.execContainer(['ping', '-c1', '-W2', '192.0.2.254']);

    expect((await ptp(netns, { command: 'DEL', containerId: 'masq1', conf })).error).toBeUndefined();
    expect(await readIptablesSave(netns.host, { table: 'nat' })).not.toContain('ptpnet');
    expect(JSON.stringify(await readNftRuleset(netns.host))).not.toContain('10.77.0.2');
    await netns.expectNoLeaks(before, { ignore: NAT_STAYS });
  });

  it('succeeds DEL when the namespace is gone, releasing the lease and the masquerade rules', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.0.0', { ipMasq: true });
    expect((await ptp(netns, { command: 'ADD', conf })).error).toBeUndefined();
    expect(leases(netns)).toHaveLength(1);
    await netns.execHost(['ip', 'netns', 'del', netns.container.name]);
    expect((await ptp(netns, { command: 'DEL', conf })).error).toBeUndefined();
    expect(leases(netns)).toEqual([]);
    expect(await readIptablesSave(netns.host, { table: 'nat' })).not.toContain('ptpnet');
  });

  it('cleans up what a failed ADD made: the container already has the interface', async () => {
    const netns = await useTestNetns();
    await netns.execContainer(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0']);
    const before = await netns.snapshot();
    const added = await ptp(netns, { command: 'ADD', conf: netConf(netns, '1.0.0', { ipMasq: true }) });
    expect(added.error).toEqual({ code: 999, msg: `container veth name "eth0" already exists in netns "${netns.container.path}"` });
    expect(leases(netns)).toEqual([]);
    await netns.expectNoLeaks(before, { ignore: NAT_STAYS });
  });

  it('fails CHECK naming what differs', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.0.0');
    const added = await ptp(netns, { command: 'ADD', conf });
    await netns.execContainer(['ip', 'addr', 'del', '10.77.0.2/24', 'dev', 'eth0']);
    const checked = await ptp(netns, { command: 'CHECK', conf: { ...conf, prevResult: added.result } });
    expect(checked.error?.msg).toBe('failed to match addr 10.77.0.2/24 on interface eth0');
    const missing = await ptp(netns, { command: 'CHECK', conf });
    expect(missing.error).toEqual({ code: 7, msg: 'required prevResult missing' });
  });

  it('answers STATUS through its IPAM plugin', async () => {
    const netns = await useTestNetns();
    const status = await ptp(netns, { command: 'STATUS', conf: netConf(netns, '1.1.0') });
    expect(status.exitCode).toBe(0);
  });

  it('GC removes the host veth, masquerade rules and lease of attachments not valid, and keeps the live one', async () => {
    const netns = await useTestNetns();
    const conf = netConf(netns, '1.1.0', { ipMasq: true });
    const stale = await useTestNetns({ leakCheck: false });
    expect((await ptp(netns, { command: 'ADD', containerId: 'live', conf })).error).toBeUndefined();
    expect((await execPlugin(`${BIN}/ptp`, { command: 'ADD', containerId: 'stale', netns: stale.container, hostNetns: netns.host, cniPath: BIN, conf })).error).toBeUndefined();
    expect((await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth'))).toHaveLength(2);
    expect(leases(netns)).toHaveLength(2);

    const gc = await ptp(netns, { command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] } });
    expect(gc.error).toBeUndefined();
    expect((await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth'))).toHaveLength(1);
    expect(await readLink(stale.container, 'eth0')).toBeUndefined();
    expect(await readLink(netns.container, 'eth0')).toBeDefined();
    expect(leases(netns)).toEqual(['10.77.0.2']);
    const nat = await readIptablesSave(netns.host, { table: 'nat' });
    expect(nat).toContain('id: \\"live\\"');
    expect(nat).not.toContain('id: \\"stale\\"');
    await netns.execContainer(['ping', '-c1', '-W2', '10.77.0.1']);
  });

  // Debian's v1.1.1 ptp answers for the keys section 4 of reference-features.md allows (all of
  // ptp's but ipMasqBackend), up to spec 1.0.0. Each side uses its own host-local; results are
  // compared apart from the generated veth name and MACs, with 1.0.0's empty dns left out
  // (Debian's library prints it, current upstream omits it).
  describe.each(['0.2.0', '0.3.1', '0.4.0', '1.0.0'])("[%s] against Debian's ptp", (version) => {
    it('gives the same result and container state', async () => {
      const ours = await useTestNetns();
      const theirs = await useTestNetns();
      const extra = { mtu: 1400, dns: { nameservers: ['10.77.0.53'], search: ['pods.local'] } };
      const a = await ptp(ours, { command: 'ADD', conf: netConf(ours, version, extra, ['10.77.0.0/24', 'fd77::/64']) });
      const b = await execPlugin(`${DEBIAN}/ptp`, {
        command: 'ADD',
        netns: theirs.container,
        hostNetns: theirs.host,
        cniPath: DEBIAN,
        conf: netConf(theirs, version, extra, ['10.77.0.0/24', 'fd77::/64']),
      });
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      const normalise = (result: unknown, path: string) =>
        JSON.parse(
          JSON.stringify(result)
            .replaceAll(path, 'NETNS')
            .replace(/veth[0-9a-f]{8}/g, 'VETH')
            .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"MAC"'),
        );
      expect(normalise(a.result, ours.container.path)).toEqual(normalise(b.result, theirs.container.path));
      const state = async (netns: TestNetns) => ({
        addresses: await readAddressList(netns.container, 'eth0'),
        routes: (await readRoutes(netns.container)).concat(await readRoutes(netns.container, { family: 6 })),
        mtu: (await readLink(netns.container, 'eth0'))?.mtu,
        disableIpv6: (await netns.execContainer(['cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6'])).stdout,
      });
      expect(await state(ours)).toEqual(await state(theirs));
      await ptp(ours, { command: 'DEL', conf: netConf(ours, version, extra) });
    });
  });
});
