// SPDX-License-Identifier: Apache-2.0
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, specVersionHas, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import {
  addVethPair,
  execPlugin,
  readAddressList,
  readAddresses,
  readLink,
  readLinks,
  readRoutes,
  runInProcess,
  useTestNetns,
  type PluginRunOptions,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { FAKE, makeFakeSysfs } from './fake-sysfs.fixture.ts';
import { createHostDevice } from './index.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const BUILT = `${BUNDLE}/host-device`;
const DEBIAN = '/usr/lib/cni/host-device';
const PEER = '198.51.100.1';
const DEVICE = 'hostdev0';

/**
 * The test's namespaces with the device to hand over: a veth `hostdev0` in the host namespace
 * whose peer (198.51.100.1/24) lives in the world namespace, so the container can reach it.
 */
async function setup(): Promise<TestNetns & { world: NonNullable<TestNetns['world']> }> {
  const netns = await useTestNetns({ defaultRoute: true });
  await addVethPair({ ns: netns.host, name: DEVICE }, { ns: netns.world!, name: 'peer0' }, { peerAddresses: [`${PEER}/24`] });
  return netns as TestNetns & { world: NonNullable<TestNetns['world']> };
}

const staticIpam = { type: 'static', addresses: [{ address: '198.51.100.10/24' }], routes: [{ dst: '203.0.113.0/24', gw: PEER }] };
const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'hd-test', type: 'host-device', device: DEVICE, ipam: staticIpam, ...extra });

/** The built executable inside the test's host namespace, as a runtime runs it. */
const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>, binary = BUILT) =>
  execPlugin(binary, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

/**
 * An executable that runs the built plugin with a fake sysfs bound over /sys/bus and /sys/devices.
 * `ip netns exec` gives each run its own mount namespace (and a fresh /sys), so the binds are
 * seen by that run only: the plugin reads the real paths, as on a node with these devices.
 */
function withFakeSysfs(netns: TestNetns): string {
  const root = makeFakeSysfs(join(netns.dir, 'sys'), DEVICE);
  const wrapper = join(netns.dir, 'host-device');
  writeFileSync(wrapper, `#!/bin/sh\nset -e\nmount --bind '${root}/bus' /sys/bus\nmount --bind '${root}/devices' /sys/devices\nexec '${BUILT}'\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** The device is back on the host under its own name, down, without alias. */
async function expectBackOnHost(netns: TestNetns): Promise<void> {
  const link = await readLink(netns.host, DEVICE);
  expect(link).toBeDefined();
  expect(link?.flags).not.toContain('UP');
  expect(link?.['ifalias']).toBeUndefined();
}

describe.skipIf(process.getuid?.() !== 0)('host-device on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] host-device', (version) => {
    it('moves the device in with ADD, passes CHECK, reaches the peer, and moves it back out with DEL (built executable)', async () => {
      const netns = await setup();
      const mac = (await readLink(netns.host, DEVICE))?.address;
      const added = await exec(netns, { command: 'ADD', conf: conf(version) });
      expect(added.error).toBeUndefined();
      expect((added.result as { cniVersion: string }).cniVersion).toBe(version);
      expect(await readLink(netns.host, DEVICE)).toBeUndefined();
      const link = await readLink(netns.container, 'eth0');
      expect(link?.address).toBe(mac);
      expect(link?.flags).toContain('UP');
      expect(link?.['ifalias']).toBe(DEVICE);
      expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['198.51.100.10/24']);
      expect((await readRoutes(netns.container, { family: 4 })).find((route) => route.dst === '203.0.113.0/24')?.gateway).toBe(PEER);
      const result = toCurrentResult(added.result as Result);
      expect(result.ips?.map(({ address }) => address)).toEqual(['198.51.100.10/24']);
      if (version !== '0.1.0' && version !== '0.2.0') expect(result.interfaces).toEqual([{ name: 'eth0', mac, sandbox: netns.container.path }]);
      expect((await netns.execContainer(['ping', '-c', '1', '-W', '2', PEER])).exitCode).toBe(0);

      if (specVersionHas('check', version)) {
        expect((await exec(netns, { command: 'CHECK', conf: conf(version, { prevResult: added.result }) })).error).toBeUndefined();
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(version) })).exitCode).toBe(0);
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      await expectBackOnHost(netns);
      expect((await readLink(netns.host, DEVICE))?.address).toBe(mac);
      if (specVersionHas('check', version)) {
        const checked = await exec(netns, { command: 'CHECK', conf: conf(version, { prevResult: added.result }) });
        expect(checked.error?.msg).toBe('container interface name in prevResult: eth0 not found');
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(version) })).exitCode).toBe(0);
    });
  });

  it('selects the device by hwaddr', async () => {
    const netns = await setup();
    await netns.execHost(['ip', 'link', 'set', DEVICE, 'address', '0e:00:00:00:0d:01']);
    const { device: _, ...byMac } = conf('1.1.0', { hwaddr: '0E:00:00:00:0D:01' });
    const added = await exec(netns, { command: 'ADD', ifName: 'net1', conf: byMac });
    expect(added.error).toBeUndefined();
    expect((await readLink(netns.container, 'net1'))?.address).toBe('0e:00:00:00:0d:01');
    expect((await exec(netns, { command: 'DEL', ifName: 'net1', conf: byMac })).exitCode).toBe(0);
    await expectBackOnHost(netns);
    const missing = await exec(netns, { command: 'ADD', conf: { ...byMac, hwaddr: '0e:00:00:00:0d:09' } });
    expect(missing.error?.msg).toBe('failed to find host device: no link with hardware address 0e:00:00:00:0d:09');
  });

  it.each([
    ['kernelpath', { kernelpath: FAKE.kernelpath }],
    ['pciBusID', { pciBusID: FAKE.pci }],
    ['pciBusID of a virtio device', { pciBusID: FAKE.virtio }],
    ['runtimeConfig.deviceID (PCI)', { runtimeConfig: { deviceID: FAKE.pci } }],
    ['runtimeConfig.deviceID (auxiliary bus)', { runtimeConfig: { deviceID: FAKE.aux } }],
  ])('selects the device by %s through sysfs', async (_, selector) => {
    const netns = await setup();
    const binary = withFakeSysfs(netns);
    const { device: _device, ...config } = conf('1.1.0', selector);
    const added = await exec(netns, { command: 'ADD', conf: config }, binary);
    expect(added.error).toBeUndefined();
    expect((await readLink(netns.container, 'eth0'))?.['ifalias']).toBe(DEVICE);
    expect((await exec(netns, { command: 'CHECK', conf: { ...config, prevResult: added.result } }, binary)).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: config }, binary)).exitCode).toBe(0);
    await expectBackOnHost(netns);
  });

  it('leaves a DPDK-bound device alone: nothing moves, the result names the interface, IPAM still runs', async () => {
    const netns = await setup();
    const binary = withFakeSysfs(netns);
    await netns.checkpoint();
    const l2 = { cniVersion: '1.1.0', name: 'hd-test', type: 'host-device', pciBusID: FAKE.dpdk };
    const added = await exec(netns, { command: 'ADD', conf: l2 }, binary);
    expect(added.result).toEqual({ cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: netns.container.path }] });
    const withIpam = await exec(netns, { command: 'ADD', conf: { ...l2, ipam: staticIpam } }, binary);
    expect(withIpam.result).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: netns.container.path }],
      ips: [{ address: '198.51.100.10/24', interface: 0 }],
      routes: [{ dst: '203.0.113.0/24', gw: PEER }],
    });
    expect((await readLinks(netns.container)).map((link) => link.ifname)).toEqual(['lo']);
    expect((await exec(netns, { command: 'CHECK', conf: { ...l2, prevResult: added.result } }, binary)).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: l2 }, binary)).exitCode).toBe(0);
    expect(await readLink(netns.host, DEVICE)).toBeDefined();
  });

  it('reads sysfs under the sysfsRoot option in process (DPDK device, nothing moved)', async () => {
    const netns = await setup();
    const plugin = createHostDevice({ sysfsRoot: makeFakeSysfs(join(netns.dir, 'sys'), DEVICE) });
    const run = (options: PluginRunOptions) => runInProcess((io) => runPlugin(plugin, io), { cniPath: BUNDLE, netns: netns.container, ...options });
    const l2 = { cniVersion: '0.4.0', name: 'hd-test', type: 'host-device', runtimeConfig: { deviceID: FAKE.igbUio } };
    const added = await run({ command: 'ADD', conf: l2 });
    expect(added.result).toEqual({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: netns.container.path }], dns: {} });
    expect((await run({ command: 'DEL', conf: l2 })).exitCode).toBe(0);
  });

  it('refuses bad input naming key and value, moving nothing', async () => {
    const netns = await setup();
    const binary = withFakeSysfs(netns);
    await netns.checkpoint();
    const { device: _, ...none } = conf('1.1.0');
    const bad: [Record<string, unknown>, { code: number; msg: string }][] = [
      [none, { code: 7, msg: 'specify either "device", "hwaddr", "kernelpath" or "pciBusID"' }],
      [conf('1.1.0', { device: 'absent0' }), { code: 999, msg: 'failed to find host device: link "absent0" not found' }],
      [{ ...none, kernelpath: '/proc/net' }, { code: 999, msg: 'failed to find host device: kernel device path "/proc/net" must be absolute and begin with /sys/devices/' }],
      [{ ...none, runtimeConfig: { deviceID: '0000:77:00.0' } }, { code: 999, msg: 'runtime config DeviceID 0000:77:00.0 not found or unsupported' }],
      [{ ...none, hwaddr: 'nope' }, { code: 7, msg: 'invalid hwaddr "nope", must be a MAC address such as "0e:00:00:00:00:01"' }],
      [{ ...none, pciBusID: FAKE.dpdk.replace('2', '9') }, { code: 999, msg: 'error with host device: lstat /sys/bus/pci/devices/0000:00:1f.9/driver: no such file or directory' }],
    ];
    for (const [config, error] of bad) {
      const added = await exec(netns, { command: 'ADD', conf: config }, binary);
      expect(added.error, JSON.stringify(config)).toEqual(error);
    }
    expect((await readLink(netns.host, DEVICE))?.flags).toContain('UP');
  });

  it('moves the device back and releases the lease when ADD fails after the move', async () => {
    const netns = await setup();
    await netns.checkpoint();
    const ipam = {
      type: 'host-local',
      dataDir: netns.dir,
      ranges: [[{ subnet: '198.51.100.0/24', rangeStart: '198.51.100.50', rangeEnd: '198.51.100.60' }]],
      // A gateway on no link: configuring the interface fails after the move.
      routes: [{ dst: '10.0.0.0/8', gw: '192.168.255.1' }],
    };
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { ipam }) });
    expect(added.error?.msg).toMatch(/^failed to add route '10\.0\.0\.0\/8 via 192\.168\.255\.1 dev eth0 /);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    // Back under its own name, up as it was found, without alias.
    const link = await readLink(netns.host, DEVICE);
    expect(link?.flags).toContain('UP');
    expect(link?.['ifalias']).toBeUndefined();
    expect(readdirSync(join(netns.dir, 'hd-test')).filter((file) => /^\d/.test(file))).toEqual([]);
  });

  it('undoes each step of the move when the container already has CNI_IFNAME', async () => {
    const netns = await setup();
    await addVethPair({ ns: netns.container, name: 'eth0' }, { ns: netns.host, name: 'taken0' });
    await netns.checkpoint();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0') });
    expect(added.error?.msg).toMatch(/^failed to move link failed to move "eth0" \(host: "hostdev0"\) to container NS: /);
    // Back on the host under its own name, up as it was, without alias; the container's eth0 untouched.
    const link = await readLink(netns.host, DEVICE);
    expect(link?.flags).toContain('UP');
    expect(link?.['ifalias']).toBeUndefined();
    expect((await readLink(netns.container, 'eth0'))?.link_netnsid).toBeDefined();
  });

  it('succeeds DEL when the device or the namespace is gone', async () => {
    const netns = await setup();
    expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: '/var/run/netns/cnitest-gone', conf: conf('1.1.0') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: '', conf: conf('1.1.0') })).exitCode).toBe(0);
  });

  it('refuses to move out a container interface without the alias ADD sets', async () => {
    const netns = await setup();
    await netns.execHost(['ip', 'link', 'set', DEVICE, 'netns', netns.container.name]);
    await netns.execContainer(['ip', 'link', 'set', DEVICE, 'name', 'eth0']);
    const deleted = await exec(netns, { command: 'DEL', conf: conf('1.1.0') });
    expect(deleted.error).toEqual({ code: 999, msg: 'failed to find original ifname for "eth0" (alias is not set)' });
    expect(await readLink(netns.container, 'eth0')).toBeDefined();
  });

  it('GC releases the leases of attachments not in cni.dev/valid-attachments and keeps live ones', async () => {
    const netns = await setup();
    await addVethPair({ ns: netns.host, name: 'hostdev1' }, { ns: netns.world, name: 'peer1' });
    const ipam = { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet: '198.51.100.0/24', rangeStart: '198.51.100.50', rangeEnd: '198.51.100.60' }]] };
    const live = await exec(netns, { command: 'ADD', containerId: 'live', conf: conf('1.1.0', { ipam }) });
    const stale = await exec(netns, { command: 'ADD', containerId: 'stale', ifName: 'eth1', conf: conf('1.1.0', { ipam, device: 'hostdev1' }) });
    expect(live.error).toBeUndefined();
    expect(stale.error).toBeUndefined();
    const leases = () => readdirSync(join(netns.dir, 'hd-test')).filter((file) => /^\d/.test(file));
    expect(leases()).toHaveLength(2);
    const gc = await exec(netns, { command: 'GC', conf: conf('1.1.0', { ipam, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] }) });
    expect(gc.exitCode).toBe(0);
    expect(leases()).toEqual([(live.result as ResultV100).ips![0]!.address.split('/')[0]]);
    expect((await exec(netns, { command: 'STATUS', conf: conf('1.1.0', { ipam }) })).exitCode).toBe(0);
  });

  // Debian's v1.1.1 host-device is the reference up to 1.0.0 for selection by device and hwaddr
  // (it renames through a temporary name and sets no alias: that part is compared with upstream's
  // current behaviour above instead). Same configuration through both, static IPAM from each side.
  describe.each(['0.3.1', '0.4.0', '1.0.0'])("[%s] against Debian's host-device", (version) => {
    it.each([
      ['with static IPAM', {}],
      ['without IPAM', { ipam: undefined }],
    ])('gives the same result and container state %s', async (_, extra) => {
      const ours = await setup();
      const theirs = await setup();
      const config = { ...conf(version, { dns: { nameservers: ['198.51.100.53'] } }), ...extra };
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
      const state = async (netns: TestNetns) => {
        const [link] = await readAddresses(netns.container, { dev: 'eth0' });
        return {
          flags: link?.flags,
          mtu: link?.mtu,
          addresses: link?.addr_info.filter((info) => info.scope === 'global').map(({ local, prefixlen }) => ({ local, prefixlen })),
          routes: (await readRoutes(netns.container, { family: 4 })).map(({ dst, gateway, dev, scope }) => ({ dst, gateway, dev, scope })),
        };
      };
      expect(await state(ours)).toEqual(await state(theirs));
      expect((await exec(ours, { command: 'DEL', conf: config })).exitCode).toBe(0);
      expect((await execPlugin(DEBIAN, { command: 'DEL', netns: theirs.container, hostNetns: theirs.host, cniPath: '/usr/lib/cni', conf: config })).exitCode).toBe(0);
      expect((await readLink(ours.host, DEVICE))?.flags).toEqual((await readLink(theirs.host, DEVICE))?.flags);
    });
  });
});
