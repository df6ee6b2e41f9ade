// SPDX-License-Identifier: Apache-2.0
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, specVersionHas, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import {
  addVethPair,
  createNetns,
  deleteNetns,
  execPlugin,
  readAddressList,
  readAddresses,
  readLink,
  readRoutes,
  readSysctl,
  registerTeardown,
  runInProcess,
  useTestNetns,
  type PluginRunOptions,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { macvlan } from './index.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const BUILT = `${BUNDLE}/macvlan`;
const DEBIAN = '/usr/lib/cni/macvlan';
const WORLD = '192.0.2.254';

/** A macvlan config on the test's uplink with host-local addresses of the uplink's subnet, kept in the test's folder. */
function conf(netns: TestNetns, cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion,
    name: 'mv-test',
    type: 'macvlan',
    master: 'uplink0',
    ipam: {
      type: 'host-local',
      dataDir: netns.dir,
      ranges: [[{ subnet: '192.0.2.0/24', rangeStart: '192.0.2.100', rangeEnd: '192.0.2.120', gateway: WORLD }]],
      routes: [{ dst: '0.0.0.0/0' }],
    },
    ...extra,
  };
}

/** The built executable inside the test's host namespace, as a runtime runs it. */
const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) =>
  execPlugin(BUILT, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

/** In process: only for configs whose master lives in the container, so the machine's own namespace is never touched. */
const inProcess = (options: PluginRunOptions) => runInProcess((io) => runPlugin(macvlan, io), { cniPath: BUNDLE, ...options });

/** The leases host-local keeps in the test's folder for the network. */
function leases(netns: TestNetns): string[] {
  try {
    return readdirSync(`${netns.dir}/mv-test`).filter((file) => /^\d/.test(file));
  } catch {
    return [];
  }
}

async function macvlanInfo(netns: TestNetns, dev = 'eth0'): Promise<Record<string, unknown> | undefined> {
  const [link] = (await netns.execContainer(['ip', '-d', '-j', 'link', 'show', 'dev', dev]).then((r) => JSON.parse(r.stdout))) as {
    linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  }[];
  expect(link?.linkinfo?.info_kind).toBe('macvlan');
  return link?.linkinfo?.info_data;
}

describe.skipIf(process.getuid?.() !== 0)('macvlan on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] macvlan', (version) => {
    it('configures with ADD, passes CHECK, reaches the world, and deconfigures with DEL (built executable)', async () => {
      const netns = await useTestNetns({ defaultRoute: true });
      await netns.checkpoint();

      const added = await exec(netns, { command: 'ADD', conf: conf(netns, version) });
      expect(added.error).toBeUndefined();
      expect((added.result as { cniVersion: string }).cniVersion).toBe(version);
      const result = toCurrentResult(added.result as Result);
      const [address] = await readAddressList(netns.container, 'eth0', 4);
      expect(address).toMatch(/^192\.0\.2\.1(0\d|1\d|20)\/24$/);
      expect(result.ips?.map((ip) => ip.address)).toEqual([address]);
      const link = await readLink(netns.container, 'eth0');
      expect(link?.flags).toContain('UP');
      if (version !== '0.1.0' && version !== '0.2.0') {
        expect(result.interfaces).toEqual([{ name: 'eth0', mac: link?.address, sandbox: netns.container.path }]);
      }
      expect(await macvlanInfo(netns)).toMatchObject({ mode: 'bridge' });
      expect((await readRoutes(netns.container, { family: 4 })).find((route) => route.dst === 'default')?.gateway).toBe(WORLD);
      expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_notify')).toBe('1');
      expect(await readSysctl(netns.container, 'net.ipv6.conf.eth0.ndisc_notify')).toBe('1');
      // Nothing of the attachment shows on the host: the link was made straight in the container.
      expect((await netns.execHost(['ip', '-j', 'link', 'show'])).stdout).not.toContain('macvlan');
      expect((await netns.execContainer(['ping', '-c', '1', '-W', '2', WORLD])).exitCode).toBe(0);
      expect(leases(netns)).toHaveLength(1);

      if (specVersionHas('check', version)) {
        const checked = await exec(netns, { command: 'CHECK', conf: conf(netns, version, { prevResult: added.result }) });
        expect(checked.error).toBeUndefined();
      }

      expect((await exec(netns, { command: 'DEL', conf: conf(netns, version) })).exitCode).toBe(0);
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      expect(leases(netns)).toHaveLength(0);
      if (specVersionHas('check', version)) {
        const checked = await exec(netns, { command: 'CHECK', conf: conf(netns, version, { prevResult: added.result }) });
        // IPAM's CHECK runs first, as upstream's: the lease went with DEL.
        expect(checked.error?.msg).toMatch(/^host-local: Failed to find address added by container cnitest/);
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(netns, version) })).exitCode).toBe(0);
    });
  });

  it('takes the interface of the default route when no master is named', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const { master: _, ...withoutMaster } = conf(netns, '1.1.0');
    const added = await exec(netns, { command: 'ADD', conf: withoutMaster });
    expect(added.error).toBeUndefined();
    const link = await readLink(netns.container, 'eth0');
    const uplink = await readLink(netns.host, 'uplink0');
    expect(link?.link_netnsid).toBeDefined();
    expect(link?.link_index).toBe(uplink?.ifindex);
    expect((await netns.execContainer(['ping', '-c', '1', '-W', '2', WORLD])).exitCode).toBe(0);
    const checked = await exec(netns, { command: 'CHECK', conf: { ...withoutMaster, prevResult: added.result } });
    expect(checked.error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: withoutMaster })).exitCode).toBe(0);
  });

  it('fails without a master when the host has no default route, leaving nothing', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const { master: _, ...withoutMaster } = conf(netns, '1.0.0');
    const added = await exec(netns, { command: 'ADD', conf: withoutMaster });
    expect(added.error).toEqual({ code: 999, msg: 'no default route interface found' });
    expect(leases(netns)).toEqual([]);
  });

  it.each(['bridge', 'private', 'vepa', 'passthru'] as const)('creates mode %s, and CHECK compares the mode', async (mode) => {
    const netns = await useTestNetns({ defaultRoute: true });
    const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', { mode }) });
    expect(added.error).toBeUndefined();
    expect(await macvlanInfo(netns)).toMatchObject({ mode });
    const other = mode === 'bridge' ? 'private' : 'bridge';
    const checked = await exec(netns, { command: 'CHECK', conf: conf(netns, '1.1.0', { mode: other, prevResult: added.result }) });
    expect(checked.error?.msg).toBe(`container macvlan mode ${mode} does not match expected value: ${other}`);
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0', { mode }) })).exitCode).toBe(0);
  });

  // What the modes mean on the wire: macvlans of one master reach each other only in bridge mode
  // (vepa sends the frame out to the master's peer, which does not reflect it; private drops it),
  // and reach the peer beyond the master in every mode.
  it.each([
    ['bridge', true],
    ['private', false],
    ['vepa', false],
  ] as const)('in %s mode, two containers on one master reach each other: %s', async (mode, reachable) => {
    const netns = await useTestNetns({ defaultRoute: true });
    const second = await createNetns(`${netns.host.name.slice(0, -2)}-c2`);
    registerTeardown(() => deleteNetns(second));
    const ipam = (address: string) => ({ type: 'static', addresses: [{ address }] });
    const first = await exec(netns, { command: 'ADD', containerId: 'one', conf: conf(netns, '1.1.0', { mode, ipam: ipam('192.0.2.51/24') }) });
    const other = await exec(netns, { command: 'ADD', containerId: 'two', netns: second.path, conf: conf(netns, '1.1.0', { mode, ipam: ipam('192.0.2.52/24') }) });
    expect(first.error).toBeUndefined();
    expect(other.error).toBeUndefined();
    expect((await netns.execContainer(['ping', '-c', '1', '-W', '2', WORLD])).exitCode).toBe(0);
    const ping = await netns.execContainer(['ping', '-c', '1', '-W', '1', '192.0.2.52'], { allowFailure: true });
    expect(ping.exitCode === 0).toBe(reachable);
    expect((await exec(netns, { command: 'DEL', containerId: 'two', netns: second.path, conf: conf(netns, '1.1.0', { mode }) })).exitCode).toBe(0);
  });

  it('sets the MTU within the master, and refuses one above it leaving nothing', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    await netns.checkpoint();
    const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', { mtu: 1400 }) });
    expect(added.error).toBeUndefined();
    expect((await readLink(netns.container, 'eth0'))?.mtu).toBe(1400);
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);

    const refused = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', { mtu: 9000 }) });
    expect(refused.error).toEqual({ code: 7, msg: 'invalid MTU 9000, must be [0, master MTU(1500)]' });
    expect(leases(netns)).toEqual([]);
  });

  it('sets bcqueuelen', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', { bcqueuelen: 4321 }) });
    expect(added.error).toBeUndefined();
    expect(await macvlanInfo(netns)).toMatchObject({ bcqueuelen: 4321 });
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
  });

  it('takes the MAC from mac, CNI_ARGS MAC and runtimeConfig.mac, in rising precedence; CHECK compares it', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const cases: [Record<string, unknown>, string | undefined, string][] = [
      [{ mac: '0e:00:00:00:00:01' }, undefined, '0e:00:00:00:00:01'],
      [{ mac: '0e:00:00:00:00:01' }, 'IgnoreUnknown=1;MAC=0e:00:00:00:00:02', '0e:00:00:00:00:02'],
      // IgnoreUnknown: host-local reads the same CNI_ARGS and knows no MAC.
      [{ mac: '0e:00:00:00:00:01', runtimeConfig: { mac: '0e:00:00:00:00:03' } }, 'IgnoreUnknown=1;MAC=0e:00:00:00:00:02', '0e:00:00:00:00:03'],
    ];
    for (const [extra, args, expected] of cases) {
      const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', extra), ...(args ? { args } : {}) });
      expect(added.error).toBeUndefined();
      expect((await readLink(netns.container, 'eth0'))?.address).toBe(expected);
      expect((added.result as ResultV100).interfaces?.[0]?.mac).toBe(expected);
      expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
    }
    const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0') });
    const prevResult = structuredClone(added.result) as ResultV100;
    prevResult.interfaces![0]!.mac = '0e:00:00:00:00:09';
    const checked = await exec(netns, { command: 'CHECK', conf: conf(netns, '1.1.0', { prevResult }) });
    expect(checked.error?.msg).toMatch(/^interface eth0 Mac 0e:00:00:00:00:09 doesn't match container Mac: /);
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
  });

  it('without IPAM brings an L2-only link up, reports no IPs, and uses the config dns', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const dns = { nameservers: ['192.0.2.53'], search: ['example.test'] };
    const { ipam: _, ...l2 } = conf(netns, '1.1.0', { dns });
    const added = await exec(netns, { command: 'ADD', conf: l2 });
    expect(added.error).toBeUndefined();
    expect(added.result).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: (await readLink(netns.container, 'eth0'))?.address, sandbox: netns.container.path }],
      dns,
    });
    expect((await readLink(netns.container, 'eth0'))?.flags).toContain('UP');
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual([]);
    expect((await exec(netns, { command: 'CHECK', conf: { ...l2, prevResult: added.result } })).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: l2 })).exitCode).toBe(0);
  });

  it('makes the link on a master inside the container with linkInContainer (in process)', async () => {
    const netns = await useTestNetns();
    // A master that lives in the container, its peer in the host namespace.
    await addVethPair({ ns: netns.container, name: 'inner0' }, { ns: netns.host, name: 'outer0' }, { peerAddresses: ['198.51.100.1/24'] });
    const l3 = {
      cniVersion: '1.1.0',
      name: 'mv-test',
      type: 'macvlan',
      master: 'inner0',
      linkInContainer: true,
      ipam: { type: 'static', addresses: [{ address: '198.51.100.10/24' }] },
    };
    const added = await inProcess({ command: 'ADD', netns: netns.container, conf: l3 });
    expect(added.error).toBeUndefined();
    const link = await readLink(netns.container, 'eth0');
    expect(link?.link).toBe('inner0');
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['198.51.100.10/24']);
    expect((await netns.execHost(['ping', '-c', '1', '-W', '2', '198.51.100.10'])).exitCode).toBe(0);
    expect((await inProcess({ command: 'CHECK', netns: netns.container, conf: { ...l3, prevResult: added.result } })).error).toBeUndefined();
    const missing = await inProcess({ command: 'ADD', netns: netns.container, ifName: 'eth1', conf: { ...l3, master: 'absent0' } });
    expect(missing.error).toEqual({ code: 999, msg: 'failed to lookup master "absent0" in the container: link not found' });
    expect((await inProcess({ command: 'DEL', netns: netns.container, conf: l3 })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();

    // Without master, the interface of the container's own default route.
    await netns.execContainer(['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'inner0']);
    await netns.execContainer(['ip', 'route', 'add', 'default', 'via', '198.51.100.1', 'dev', 'inner0']);
    const { master: _, ...noMaster } = l3;
    const defaulted = await inProcess({ command: 'ADD', netns: netns.container, ifName: 'eth1', conf: noMaster });
    expect(defaulted.error).toBeUndefined();
    expect((await readLink(netns.container, 'eth1'))?.link).toBe('inner0');
    expect((await inProcess({ command: 'DEL', netns: netns.container, ifName: 'eth1', conf: noMaster })).exitCode).toBe(0);
  });

  it('refuses bad input naming key and value, leaving nothing behind', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    await netns.checkpoint();
    const bad: [Record<string, unknown>, { code: number; msg: string }][] = [
      [{ mode: 'foo' }, { code: 999, msg: 'unknown macvlan mode: "foo"' }],
      [{ master: 'absent0' }, { code: 999, msg: 'failed to lookup master "absent0" on the host: link not found' }],
      [{ mtu: 1501 }, { code: 7, msg: 'invalid MTU 1501, must be [0, master MTU(1500)]' }],
      [{ mac: 'not-a-mac' }, { code: 7, msg: 'invalid mac "not-a-mac", must be a MAC address such as "0e:00:00:00:00:01"' }],
      [{ bcqueuelen: 'x' }, { code: 7, msg: 'invalid bcqueuelen "x", must be an integer in [0, 4294967295]' }],
      [{ linkInContainer: 1 }, { code: 7, msg: 'invalid linkInContainer 1, must be a boolean' }],
    ];
    for (const [extra, error] of bad) {
      const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0', extra) });
      expect(added.error, JSON.stringify(extra)).toMatchObject(error);
    }
    expect(leases(netns)).toEqual([]);
  });

  it('removes the link and releases the lease when ADD fails after IPAM', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    await netns.checkpoint();
    // A route through a gateway that is not on any link: configuring the interface fails.
    const failing = conf(netns, '1.1.0', {
      ipam: { ...(conf(netns, '1.1.0').ipam as object), routes: [{ dst: '10.0.0.0/8', gw: '203.0.113.1' }] },
    });
    const added = await exec(netns, { command: 'ADD', conf: failing });
    expect(added.error?.msg).toMatch(/^failed to add route '10\.0\.0\.0\/8 via 203\.0\.113\.1 dev eth0 /);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect(leases(netns)).toEqual([]);
  });

  it('succeeds DEL when the link or the namespace is gone', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: '/var/run/netns/cnitest-gone', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
    // A master that vanished since ADD does not keep DEL from cleaning up.
    const added = await exec(netns, { command: 'ADD', conf: conf(netns, '1.1.0') });
    expect(added.error).toBeUndefined();
    await netns.execHost(['ip', 'link', 'del', 'uplink0']);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    const checked = await exec(netns, { command: 'CHECK', conf: conf(netns, '1.1.0', { prevResult: added.result }) });
    expect(checked.error).toEqual({ code: 999, msg: 'failed to lookup master "uplink0" on the host: link not found' });
    expect((await exec(netns, { command: 'DEL', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
    expect(leases(netns)).toEqual([]);
  });

  it('GC releases the leases of attachments not in cni.dev/valid-attachments and keeps live ones', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const live = await exec(netns, { command: 'ADD', containerId: 'live', ifName: 'eth0', conf: conf(netns, '1.1.0') });
    // No routes on the second link: the container has its default route already.
    const ipam = { ...(conf(netns, '1.1.0').ipam as object), routes: [] };
    const stale = await exec(netns, { command: 'ADD', containerId: 'stale', ifName: 'eth1', conf: conf(netns, '1.1.0', { ipam }) });
    expect(live.error).toBeUndefined();
    expect(stale.error).toBeUndefined();
    expect(leases(netns)).toHaveLength(2);
    const gc = await exec(netns, {
      command: 'GC',
      conf: conf(netns, '1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] }),
    });
    expect(gc.exitCode).toBe(0);
    const kept = (live.result as ResultV100).ips![0]!.address.split('/')[0]!;
    expect(leases(netns)).toEqual([kept]);
    expect((await netns.execContainer(['ping', '-c', '1', '-W', '2', WORLD])).exitCode).toBe(0);
    const status = await exec(netns, { command: 'STATUS', conf: conf(netns, '1.1.0') });
    expect(status.exitCode).toBe(0);
  });

  // Debian's v1.1.1 macvlan is the reference up to 1.0.0 for master, mode, mtu and mac (not
  // linkInContainer nor bcqueuelen). The same configuration through both, static IPAM from each
  // side's own CNI_PATH: the result apart from MACs and namespace paths, and the container state.
  // Every key at 1.0.0, the default mode in each older version that has the same result layout.
  describe.each([
    ['0.3.0', { mode: 'bridge' }],
    ['0.3.1', { mode: 'bridge' }],
    ['0.4.0', { mode: 'bridge' }],
    ['1.0.0', { mode: 'bridge' }],
    ['1.0.0', { mode: 'private', mtu: 1400 }],
    ['1.0.0', { mode: 'vepa', mac: '0e:00:00:00:00:0a' }],
  ] as const)("[%s] against Debian's macvlan", (version, extra) => {
    it(`gives the same result and container state for ${JSON.stringify(extra)}`, async () => {
      const ours = await useTestNetns({ defaultRoute: true });
      const theirs = await useTestNetns({ defaultRoute: true });
      const config = {
        cniVersion: version,
        name: 'mv-diff',
        type: 'macvlan',
        master: 'uplink0',
        dns: { nameservers: ['192.0.2.53'] },
        ipam: {
          type: 'static',
          addresses: [{ address: '192.0.2.77/24', gateway: WORLD }, { address: '2001:db8:ffff::77/64' }],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '198.51.100.0/24', gw: '192.0.2.200' }],
        },
        ...extra,
      };
      const a = await exec(ours, { command: 'ADD', conf: config });
      const b = await execPlugin(DEBIAN, { command: 'ADD', netns: theirs.container, hostNetns: theirs.host, cniPath: '/usr/lib/cni', conf: config });
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      const normalise = (result: unknown, path: string) => {
        const text = JSON.stringify(result).replaceAll(path, 'NETNS').replace(/"mac":"[0-9a-f:]+"/g, '"mac":"MAC"');
        const { dns, ...rest } = JSON.parse(text) as ResultV100;
        return dns && Object.keys(dns).length > 0 ? { ...rest, dns } : rest;
      };
      expect(normalise(a.result, ours.container.path)).toEqual(normalise(b.result, theirs.container.path));
      if ('mac' in extra) expect((await readLink(ours.container, 'eth0'))?.address).toBe(extra.mac);

      const state = async (netns: TestNetns) => {
        const [link] = await readAddresses(netns.container, { dev: 'eth0' });
        const routes = [...(await readRoutes(netns.container, { family: 4 })), ...(await readRoutes(netns.container, { family: 6 }))];
        return {
          mtu: link?.mtu,
          flags: link?.flags,
          mode: (await macvlanInfo(netns))?.['mode'],
          addresses: link?.addr_info.filter((info) => info.scope === 'global').map(({ local, prefixlen, family }) => ({ local, prefixlen, family })),
          routes: routes.map(({ dst, gateway, dev, scope, protocol }) => ({ dst, gateway, dev, scope, protocol })),
          arpNotify: await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_notify'),
        };
      };
      expect(await state(ours)).toEqual(await state(theirs));
      // ndisc_notify came in upstream v1.4, after Debian's v1.1.1.
      expect(await readSysctl(ours.container, 'net.ipv6.conf.eth0.ndisc_notify')).toBe('1');
      expect((await exec(ours, { command: 'DEL', conf: config })).exitCode).toBe(0);
    });
  });
});

describe.skipIf(process.getuid?.() !== 0)('macvlan ADD undo (in process, master in the container)', () => {
  it('removes the link it made when the IPAM step fails, through the undo stack', async () => {
    const netns = await useTestNetns();
    await netns.execContainer(['ip', 'link', 'add', 'inner0', 'type', 'veth', 'peer', 'name', 'inner1']);
    await netns.execContainer(['ip', 'link', 'set', 'inner0', 'up']);
    const failing = { ...conf(netns, '1.1.0'), master: 'inner0', linkInContainer: true, ipam: { type: 'no-such-ipam' } };
    const added = await inProcess({ command: 'ADD', netns: netns.container, conf: failing });
    expect(added.error?.code).toBeDefined();
    const left = (await readAddresses(netns.container)).map((link) => link.ifname).sort();
    expect(left).toEqual(['inner0', 'inner1', 'lo']);
  });
});
