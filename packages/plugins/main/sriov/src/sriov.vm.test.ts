// SPDX-License-Identifier: Apache-2.0
import { closeSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { CLONE_NEWNET, setns } from '@cni/sys';
import { exec, ipJson, readLink, run as sh, runInProcess, useTestNetns, type PluginRunOptions, type PluginRunResult, type TestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fakeVfPci, makeFakeSriovSysfs } from './fake-sriov.fixture.ts';
import { createSriov } from './index.ts';

// The real PF-side step against netdevsim, the kernel's simulated SR-IOV device (built out of tree
// by run-vm-tier.mjs): the plugin sets VFs through the driver, and iproute2 reads them back from
// it. The VFs' PCI side is a fake sysfs tree with dummy links as VF netdevs.

interface IpVf {
  vf: number;
  address?: string;
  vlan_list?: { vlan: number; qos?: number; protocol?: string }[];
  vlan?: number;
  qos?: number;
  rate?: { max_tx: number; min_tx: number };
  spoofchk?: boolean;
  trust?: boolean;
  link_state?: string;
}

const BUNDLE = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));

let nextDevice = 10;

/** A netdevsim PF with 4 VFs created in the test's host namespace, its name, and the VF reader. */
async function lab(): Promise<{ netns: TestNetns; pf: string; vfs(): Promise<IpVf[]>; run(options: PluginRunOptions): Promise<PluginRunResult>; dataDir: string }> {
  const netns = await useTestNetns({ container: true });
  const id = nextDevice++;
  // A netdevsim device is created in the namespace of the process that asks for it.
  await exec(netns.host, ['sh', '-c', `echo "${id} 1" > /sys/bus/netdevsim/new_device`]);
  onTestFinished(() => writeFileSync('/sys/bus/netdevsim/del_device', `${id}`));
  writeFileSync(`/sys/bus/netdevsim/devices/netdevsim${id}/sriov_numvfs`, '4');
  const links = await ipJson<{ ifname: string; vfinfo_list?: unknown[] }[]>(netns.host, ['-d', 'link', 'show']);
  const pf = links.find((link) => link.vfinfo_list !== undefined)?.ifname;
  if (!pf) throw new Error(`no netdevsim PF in ${JSON.stringify(links)}`);
  for (const name of ['vf0', 'vf1']) await sh(['ip', '-n', netns.host.name, 'link', 'add', name, 'type', 'dummy']);
  const sysfsRoot = makeFakeSriovSysfs(join(netns.dir, 'sys'), pf, [{ driver: 'iavf', netdev: 'vf0' }, { driver: 'iavf', netdev: 'vf1' }, { driver: 'vfio-pci' }, { driver: 'uio_pci_generic' }]);
  const plugin = createSriov({ sysfsRoot });
  const vfs = async () => (await ipJson<{ vfinfo_list: IpVf[] }[]>(netns.host, ['-d', 'link', 'show', 'dev', pf]))[0]!.vfinfo_list;
  const run = async (options: PluginRunOptions) => {
    // The plugin's thread enters the test's host namespace, where the PF lives, for the run.
    const original = openSync('/proc/thread-self/ns/net', 'r');
    const target = openSync(netns.host.path, 'r');
    try {
      setns(target, CLONE_NEWNET);
      try {
        return await runInProcess((io) => runPlugin(plugin, io), { cniPath: BUNDLE, netns: netns.container, ...options });
      } finally {
        setns(original, CLONE_NEWNET);
      }
    } finally {
      closeSync(target);
      closeSync(original);
    }
  };
  return { netns, pf, vfs, run, dataDir: join(netns.dir, 'sriov') };
}

/** iproute2 leaves out a zero VLAN or QoS and the 802.1Q protocol: fill them in. */
const vlanOf = (vf: IpVf) => ({ vlan: vf.vlan ?? 0, qos: vf.qos ?? 0, protocol: '802.1Q', ...(vf.vlan_list?.[0] ?? {}) });

/** A 0.1.0 result needs an address: the oldest version runs with static IPAM (an exec of the bundle's). */
const ipamFor = (version: string) => (version === '0.1.0' ? { ipam: { type: 'static', addresses: [{ address: '198.51.100.10/24' }] } } : {});

describe('sriov on netdevsim', () => {
  describe.each(['0.1.0', '1.1.0'])('[%s]', (version) => {
    it('kernel mode: every key applied through the driver and read back by iproute2; DEL restores the settings the VF had before', async () => {
      const { netns, pf, vfs, run, dataDir } = await lab();
      // The VF had settings before ADD.
      await sh(['ip', '-n', netns.host.name, 'link', 'set', pf, 'vf', '0', 'vlan', '7', 'qos', '1', 'trust', 'on', 'max_tx_rate', '50', 'state', 'disable']);
      const before = (await vfs())[0]!;
      const conf = {
        cniVersion: version,
        name: 'sriov-net',
        type: 'sriov',
        deviceID: fakeVfPci(0),
        dataDir,
        mac: '0a:58:00:00:00:10',
        vlan: 100,
        vlanQoS: 3,
        vlanProto: '802.1ad',
        min_tx_rate: 10,
        max_tx_rate: 1000,
        spoofchk: 'off',
        trust: 'off',
        link_state: 'enable',
        ...ipamFor(version),
      };
      const added = await run({ command: 'ADD', conf, ifName: 'net1' });
      expect(added.error, added.stdout).toBeUndefined();
      const vf = (await vfs())[0]!;
      expect(vf.address).toBe('0a:58:00:00:00:10');
      expect(vlanOf(vf)).toMatchObject({ vlan: 100, qos: 3, protocol: '802.1ad' });
      expect(vf.rate).toEqual({ max_tx: 1000, min_tx: 10 });
      expect(vf.spoofchk).toBe(false);
      expect(vf.trust).toBe(false);
      expect(vf.link_state).toBe('enable');
      const inside = await readLink(netns.container, 'net1');
      expect(inside?.address).toBe('0a:58:00:00:00:10');
      expect(await readLink(netns.host, 'vf0')).toBeUndefined();
      if (version !== '0.1.0') {
        const checked = await run({ command: 'CHECK', conf: { ...conf, prevResult: added.result }, ifName: 'net1' });
        expect(checked.error).toBeUndefined();
      }
      expect((await run({ command: 'DEL', conf, ifName: 'net1' })).error).toBeUndefined();
      expect((await vfs())[0]).toEqual(before);
      expect(await readLink(netns.host, 'vf0')).toBeDefined();
    });

    it('DPDK mode: the driver gets the PF-side settings, nothing moves, DEL restores', async () => {
      const { netns, vfs, run, dataDir } = await lab();
      const before = (await vfs())[2]!;
      const conf = { cniVersion: version, name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(2), dataDir, vlan: 20, mac: '0a:58:00:00:00:22', link_state: 'disable', ...ipamFor(version) };
      const added = await run({ command: 'ADD', conf });
      expect(added.error, added.stdout).toBeUndefined();
      const vf = (await vfs())[2]!;
      expect(vf.address).toBe('0a:58:00:00:00:22');
      expect(vlanOf(vf)).toMatchObject({ vlan: 20, protocol: '802.1Q' });
      expect(vf.link_state).toBe('disable');
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      expect((await run({ command: 'DEL', conf })).error).toBeUndefined();
      expect((await vfs())[2]).toEqual(before);
    });
  });

  it('two pods on two VFs, a VF in use refused, DEL with the namespace gone, GC', async () => {
    const { netns, vfs, run, dataDir } = await lab();
    const second = await useTestNetns({ container: true });
    const conf = (vf: number, extra: Record<string, unknown> = {}) => ({ cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(vf), dataDir, ...extra });
    expect((await run({ command: 'ADD', conf: conf(0, { vlan: 10 }), containerId: 'a' })).error).toBeUndefined();
    expect((await run({ command: 'ADD', conf: conf(1, { vlan: 11 }), containerId: 'b', netns: second.container })).error).toBeUndefined();
    expect((await vfs()).slice(0, 2).map((vf) => vlanOf(vf).vlan)).toEqual([10, 11]);
    const refused = await run({ command: 'ADD', conf: conf(0, { vlan: 99 }), containerId: 'c', netns: second.container, ifName: 'net2' });
    expect(refused.error?.code).toBe(11);
    expect(vlanOf((await vfs())[0]!).vlan).toBe(10);
    // The second pod's namespace goes away before its DEL.
    await sh(['ip', 'netns', 'del', second.container.name]);
    expect((await run({ command: 'DEL', conf: conf(1), containerId: 'b', netns: second.container })).error).toBeUndefined();
    expect(vlanOf((await vfs())[1]!).vlan).toBe(0);
    // GC keeps nothing: pod a's VF is released too.
    expect((await run({ command: 'GC', conf: { ...conf(0), 'cni.dev/valid-attachments': [] } })).error).toBeUndefined();
    expect(vlanOf((await vfs())[0]!).vlan).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect(await readLink(netns.host, 'vf0')).toBeDefined();
    expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual([]);
  });
});
