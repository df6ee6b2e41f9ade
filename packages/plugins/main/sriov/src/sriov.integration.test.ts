// SPDX-License-Identifier: Apache-2.0
import { chmodSync, closeSync, existsSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { CLONE_NEWNET, setns } from '@cni/sys';
import { execPlugin, readAddressList, readLink, run as sh, runInProcess, useTestNetns, type PluginRunOptions, type PluginRunResult, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { FakeVfControl, FAKE_PF_PCI, fakeVfPci, makeFakeSriovSysfs } from './fake-sriov.fixture.ts';
import { createSriov } from './index.ts';

// The host kernel has no SR-IOV driver: the PCI side is a fake sysfs tree (as sriov-cni's own
// tests build), the VF netdevs are veths, and the PF-side step is an in-memory VfControl the test
// observes. The VM tier drives the real PF-side step against netdevsim.

const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const PF = 'pf0';

interface Lab {
  netns: TestNetns;
  control: FakeVfControl;
  dataDir: string;
  run(options: PluginRunOptions): Promise<PluginRunResult>;
}

/**
 * The plugin in process, its thread inside the test's host namespace for the run: sockets it opens
 * and programs it starts (the IPAM delegate) live there, never in the machine's own namespace.
 */
async function inHost(netns: TestNetns, body: () => Promise<PluginRunResult>): Promise<PluginRunResult> {
  const original = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(netns.host.path, 'r');
  try {
    setns(target, CLONE_NEWNET);
    try {
      return await body();
    } finally {
      setns(original, CLONE_NEWNET);
    }
  } finally {
    closeSync(target);
    closeSync(original);
  }
}

/** VF 0 and 1 on a kernel driver (veth netdevs vf0, vf1), VF 2 on vfio-pci, VF 3 on igb_uio. */
async function lab(): Promise<Lab> {
  const netns = await useTestNetns({ container: true });
  for (const name of ['vf0', 'vf1']) {
    await sh(['ip', '-n', netns.host.name, 'link', 'add', name, 'address', name === 'vf0' ? '0a:00:00:00:0f:00' : '0a:00:00:00:0f:01', 'mtu', '1400', 'type', 'veth', 'peer', 'name', `${name}p`]);
  }
  const sysfsRoot = makeFakeSriovSysfs(join(netns.dir, 'sys'), PF, [
    { driver: 'iavf', netdev: 'vf0' },
    { driver: 'iavf', netdev: 'vf1' },
    { driver: 'vfio-pci' },
    { driver: 'igb_uio' },
  ]);
  const control = new FakeVfControl();
  const plugin = createSriov({ sysfsRoot, vfControl: control });
  const dataDir = join(netns.dir, 'sriov');
  return {
    netns,
    control,
    dataDir,
    run: (options) => inHost(netns, () => runInProcess((io) => runPlugin(plugin, io), { cniPath: BUNDLE, netns: netns.container, ...options })),
  };
}

const staticIpam = { type: 'static', addresses: [{ address: '198.51.100.10/24' }] };

describe.skipIf(process.getuid?.() !== 0)('sriov on the host kernel (fake PCI tree, veth VF netdevs)', () => {
  describe.each(['0.3.1', '1.1.0'])('[%s]', (version) => {
    const conf = (dataDir: string, extra: Record<string, unknown> = {}) => ({ cniVersion: version, name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(0), dataDir, ...extra });

    it('kernel mode: ADD applies every key through the PF in order, moves and renames the netdev, CHECK passes, DEL restores exactly', async () => {
      const { netns, control, dataDir, run } = await lab();
      // The VF had settings before ADD: DEL must put these back, not defaults.
      await control.apply(PF, 0, { vlan: { vlan: 7, qos: 1, proto: '802.1Q' }, rate: { minTxRate: 5, maxTxRate: 50 }, trust: true, linkState: 'disable' });
      const before = control.info(PF, 0);
      control.calls.length = 0;
      await netns.checkpoint({ files: [dataDir] });
      const full = conf(dataDir, {
        mac: '0a:58:00:00:00:10',
        vlan: 100,
        vlanQoS: 3,
        vlanProto: '802.1ad',
        min_tx_rate: 10,
        max_tx_rate: 1000,
        spoofchk: 'off',
        trust: 'off',
        link_state: 'enable',
        ipam: staticIpam,
      });
      const added = await run({ command: 'ADD', conf: full, containerId: 'pod-a', ifName: 'net1' });
      expect(added.error).toBeUndefined();
      const result = added.result as { interfaces: { name: string; mac?: string; sandbox?: string; pciID?: string }[]; ips: { address: string }[] };
      expect(result.interfaces[0]).toMatchObject({ name: 'net1', mac: '0a:58:00:00:00:10', sandbox: netns.container.path });
      if (version === '1.1.0') expect(result.interfaces[0]?.pciID).toBe(fakeVfPci(0));
      expect(result.ips[0]?.address).toBe('198.51.100.10/24');
      expect(control.calls.map((call) => Object.keys(call.settings)[0])).toEqual(['vlan', 'mac', 'rate', 'spoofchk', 'trust', 'linkState']);
      expect(control.info(PF, 0)).toMatchObject({ mac: '0a:58:00:00:00:10', vlan: 100, qos: 3, vlanProto: '802.1ad', minTxRate: 10, maxTxRate: 1000, spoofchk: false, trust: false, linkState: 'enable' });
      expect(await readLink(netns.host, 'vf0')).toBeUndefined();
      const inside = await readLink(netns.container, 'net1');
      expect(inside?.address).toBe('0a:58:00:00:00:10');
      expect(inside?.flags).toContain('UP');
      expect(await readAddressList(netns.container, 'net1')).toContain('198.51.100.10/24');

      const checked = await run({ command: 'CHECK', conf: { ...full, cniVersion: version === '0.3.1' ? '0.4.0' : version, prevResult: added.result }, containerId: 'pod-a', ifName: 'net1' });
      expect(checked.error).toBeUndefined();
      // A setting changed behind the plugin's back fails CHECK, naming it.
      await control.apply(PF, 0, { trust: true });
      const drifted = await run({ command: 'CHECK', conf: { ...full, cniVersion: version === '0.3.1' ? '0.4.0' : version, prevResult: added.result }, containerId: 'pod-a', ifName: 'net1' });
      expect(drifted.error?.msg).toMatch(/trust changed since ADD: trust is on/);

      const deleted = await run({ command: 'DEL', conf: full, containerId: 'pod-a', ifName: 'net1' });
      expect(deleted.error).toBeUndefined();
      expect(control.info(PF, 0)).toEqual(before);
      const back = await readLink(netns.host, 'vf0');
      expect(back?.address).toBe('0a:00:00:00:0f:00');
      expect(back?.mtu).toBe(1400);
      expect(await readLink(netns.container, 'net1')).toBeUndefined();
      // Idempotent.
      expect((await run({ command: 'DEL', conf: full, containerId: 'pod-a', ifName: 'net1' })).error).toBeUndefined();
      expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual([]);
    });

    it('DPDK mode: PF-side settings only, nothing moved, the interface reported with its MAC; DEL restores', async () => {
      const { netns, control, dataDir, run } = await lab();
      for (const vf of [2, 3]) {
        const dpdk = conf(dataDir, { deviceID: fakeVfPci(vf), mac: '0a:58:00:00:00:22', vlan: 20 });
        const added = await run({ command: 'ADD', conf: dpdk, containerId: `dpdk${vf}` });
        expect(added.error).toBeUndefined();
        expect((added.result as { interfaces: unknown[] }).interfaces[0]).toMatchObject({ name: 'eth0', mac: '0a:58:00:00:00:22', sandbox: netns.container.path });
        expect(control.info(PF, vf)).toMatchObject({ mac: '0a:58:00:00:00:22', vlan: 20 });
        expect(await readLink(netns.container, 'eth0')).toBeUndefined();
        expect((await run({ command: 'DEL', conf: dpdk, containerId: `dpdk${vf}` })).error).toBeUndefined();
        expect(control.info(PF, vf)).toMatchObject({ mac: '00:00:00:00:00:00', vlan: 0 });
      }
    });
  });

  it('two pods on two VFs; a second ADD on a VF in use is refused and changes nothing', async () => {
    const { netns, control, dataDir, run } = await lab();
    const other = await useTestNetns({ container: true });
    const conf = (vf: number, extra: Record<string, unknown> = {}) => ({ cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(vf), dataDir, ...extra });
    expect((await run({ command: 'ADD', conf: conf(0, { vlan: 10 }), containerId: 'a' })).error).toBeUndefined();
    expect((await run({ command: 'ADD', conf: conf(1, { vlan: 11 }), containerId: 'b', netns: other.container })).error).toBeUndefined();
    expect(await readLink(netns.container, 'eth0')).toBeDefined();
    expect(await readLink(other.container, 'eth0')).toBeDefined();
    const calls = control.calls.length;
    const refused = await run({ command: 'ADD', conf: conf(0, { vlan: 99 }), containerId: 'c', netns: other.container, ifName: 'net2' });
    expect(refused.error).toEqual({ code: 11, msg: `VF ${fakeVfPci(0)} is already in use by container a (interface eth0, netns ${netns.container.path})` });
    expect(control.calls.length).toBe(calls);
    expect(control.info(PF, 0).vlan).toBe(10);
    expect((await run({ command: 'DEL', conf: conf(0), containerId: 'a' })).error).toBeUndefined();
    expect((await run({ command: 'DEL', conf: conf(1), containerId: 'b', netns: other.container })).error).toBeUndefined();
    expect(await readLink(netns.host, 'vf0')).toBeDefined();
    expect(await readLink(netns.host, 'vf1')).toBeDefined();
  });

  it('refuses a device that is not a VF, and a VF without netdev or DPDK driver, with code 7 and nothing left', async () => {
    const { dataDir, run, control } = await lab();
    const conf = (deviceID: string) => ({ cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID, dataDir });
    expect((await run({ command: 'ADD', conf: conf('0000:77:00.0') })).error?.msg).toMatch(/^invalid deviceID "0000:77:00.0": VF pci address 0000:77:00.0 not found/);
    expect((await run({ command: 'ADD', conf: conf(FAKE_PF_PCI) })).error).toEqual({ code: 7, msg: `invalid deviceID "${FAKE_PF_PCI}": ${FAKE_PF_PCI} is not an SR-IOV VF: it has no physfn` });
    expect(control.calls).toEqual([]);
    expect(existsSync(join(dataDir, `cnitest-eth0`))).toBe(false);
  });

  it('a failing PF-side step undoes the steps before it and leaves no state', async () => {
    const { netns, control, dataDir, run } = await lab();
    control.failOn = 'trust';
    const added = await run({ command: 'ADD', conf: { cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(0), dataDir, vlan: 5, trust: 'on' } });
    expect(added.error?.msg).toMatch(/^failed to set trust of VF 0 on pf0: Operation not supported/);
    expect(control.info(PF, 0).vlan).toBe(0);
    expect(await readLink(netns.host, 'vf0')).toBeDefined();
    expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual([]);
    expect(readdirSync(join(dataDir, 'pci')).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  });

  it('DEL with the namespace gone restores the PF side and drops state; GC releases attachments not kept; STATUS', async () => {
    const { control, dataDir, run } = await lab();
    const gone = await useTestNetns({ container: true });
    const conf = (vf: number, extra: Record<string, unknown> = {}) => ({ cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID: fakeVfPci(vf), dataDir, ...extra });
    expect((await run({ command: 'ADD', conf: conf(0, { vlan: 30 }), containerId: 'x', netns: gone.container })).error).toBeUndefined();
    await sh(['ip', 'netns', 'del', gone.container.name]).catch(() => undefined);
    expect((await run({ command: 'DEL', conf: conf(0), containerId: 'x', netns: gone.container })).error).toBeUndefined();
    expect(control.info(PF, 0).vlan).toBe(0);
    expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual([]);

    // GC: two attachments, one kept.
    expect((await run({ command: 'ADD', conf: conf(2, { vlan: 31 }), containerId: 'keep' })).error).toBeUndefined();
    expect((await run({ command: 'ADD', conf: conf(3, { vlan: 32 }), containerId: 'lost' })).error).toBeUndefined();
    const gc = await run({ command: 'GC', conf: { cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', dataDir, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] } });
    expect(gc.error).toBeUndefined();
    expect(control.info(PF, 2).vlan).toBe(31);
    expect(control.info(PF, 3).vlan).toBe(0);
    expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual(['keep-eth0']);
    // Another network's GC leaves this network's attachments alone.
    expect((await run({ command: 'GC', conf: { cniVersion: '1.1.0', name: 'other', type: 'sriov', dataDir } })).error).toBeUndefined();
    expect(readdirSync(dataDir).filter((name) => name !== 'pci')).toEqual(['keep-eth0']);
    expect((await run({ command: 'STATUS', conf: { cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', dataDir } })).error).toBeUndefined();
    expect((await run({ command: 'DEL', conf: conf(2), containerId: 'keep' })).error).toBeUndefined();
  });

  it('the built executable reads /sys (a fake tree bound over /sys/bus/pci for its run): code 7 for bad keys, a clear error for a PF without VFs, nothing left', async () => {
    const { netns, dataDir } = await lab();
    // `ip netns exec` gives each run its own mount namespace: the bind is seen by that run only.
    const wrapper = join(netns.dir, 'sriov-exec');
    writeFileSync(wrapper, `#!/bin/sh\nset -e\nmount --bind '${join(netns.dir, 'sys/bus/pci')}' /sys/bus/pci\nexec '${BUNDLE}/sriov'\n`);
    chmodSync(wrapper, 0o755);
    const exec = (conf: Record<string, unknown>) => execPlugin(wrapper, { command: 'ADD', cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, conf });
    const base = { cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', dataDir };
    expect((await exec({ ...base, deviceID: fakeVfPci(2), vlan: 4095 })).error).toEqual({ code: 7, msg: 'invalid vlan 4095, must be an integer in the range 0-4094' });
    expect((await exec({ ...base, deviceID: FAKE_PF_PCI })).error).toEqual({ code: 7, msg: `invalid deviceID "${FAKE_PF_PCI}": ${FAKE_PF_PCI} is not an SR-IOV VF: it has no physfn` });
    // The fake tree names a PF "pf0" that this kernel does not have: the PF-side read fails, naming it.
    const failed = await exec({ ...base, deviceID: fakeVfPci(2), vlan: 10 });
    expect(failed.exitCode).toBe(1);
    expect(failed.error?.msg).toMatch(/^failed to read VF 2 of pf0: /);
    expect(existsSync(dataDir) ? readdirSync(dataDir).filter((name) => name !== 'pci') : []).toEqual([]);
  });
});

