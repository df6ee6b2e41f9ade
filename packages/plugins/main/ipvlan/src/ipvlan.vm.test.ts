// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { toCurrentResult, type Result } from '@cni/spec';
import {
  createNetns,
  deleteNetns,
  execPlugin,
  readAddressList,
  readLink,
  readRoutes,
  runInProcess,
  useTestNetns,
  type PluginRunOptions,
  type TestNamespace,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ipvlan } from './index.ts';

// The host kernel has no ipvlan: these run in the VM tier's cloud kernel (run-vm-tier.mjs).

const BUNDLE = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const DEBIAN = '/usr/lib/cni';

/** Our users' example, as they wrote it. */
const usersExample = (cniVersion: string, address = '10.10.10.2/24') => ({
  cniVersion,
  name: 'ipvlan0',
  type: 'ipvlan',
  master: 'eth1000',
  mode: 'l2',
  ipam: { type: 'static', addresses: [{ address, gateway: '10.10.10.1' }] },
});

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>, bin = BUNDLE) =>
  execPlugin(`${bin}/ipvlan`, { cniPath: bin, netns: netns.container, hostNetns: netns.host, ...options });

/** In process: only for configs whose master lives in the container, so the VM's own namespace is never the host. */
const inProcess = (netns: TestNetns, options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(ipvlan, io), { cniPath: BUNDLE, netns: netns.container, ...options });

/** A second pod namespace, removed with the test. */
async function pod(): Promise<TestNamespace> {
  const ns = await createNetns();
  onTestFinished(() => deleteNetns(ns));
  return ns;
}

/** The master `eth1000` in the test's host namespace: a dummy, up, with the address the kernel docs say pods cannot reach. */
async function master(netns: TestNetns, ns: TestNamespace = netns.host, name = 'eth1000'): Promise<void> {
  const run = ns === netns.host ? netns.execHost.bind(netns) : netns.execContainer.bind(netns);
  await run(['ip', 'link', 'add', name, 'type', 'dummy']);
  await run(['ip', 'addr', 'add', '10.10.10.1/24', 'dev', name]);
  await run(['ip', 'link', 'set', name, 'up']);
}

const ping = async (netns: TestNetns, from: TestNamespace, to: string) =>
  (await netns.execHost(['ip', 'netns', 'exec', from.name, 'ping', '-c', '1', '-W', '1', to], { allowFailure: true })).exitCode;

async function ipvlanInfo(ns: TestNamespace, dev = 'eth0'): Promise<Record<string, unknown> | undefined> {
  const link = await readLink(ns, dev);
  expect(link?.linkinfo?.info_kind).toBe('ipvlan');
  return link?.linkinfo?.info_data;
}

describe('ipvlan in the VM kernel', () => {
  it("[1.1.0] runs our users' example: ADD, CHECK, a second pod reachable, the master's address not, DEL (built executable)", async () => {
    const netns = await useTestNetns();
    await master(netns);
    const other = await pod();

    const added = await exec(netns, { command: 'ADD', conf: usersExample('1.1.0') });
    expect(added.error).toBeUndefined();
    const result = toCurrentResult(added.result as Result);
    const link = await readLink(netns.container, 'eth0');
    expect(result).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: link?.address, sandbox: netns.container.path }],
      ips: [{ address: '10.10.10.2/24', gateway: '10.10.10.1', interface: 0 }],
    });
    expect(await ipvlanInfo(netns.container)).toMatchObject({ mode: 'l2' });
    expect(link?.link_netnsid).toBeDefined(); // the parent lives in another namespace: the host's eth1000
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.10.10.2/24']);
    expect((await netns.execHost(['ip', '-j', 'link', 'show'])).stdout).not.toContain('ipvlan');

    const second = await exec(netns, { command: 'ADD', netns: other.path, containerId: 'pod2', conf: usersExample('1.1.0', '10.10.10.3/24') });
    expect(second.error).toBeUndefined();
    expect(await ping(netns, netns.container, '10.10.10.3')).toBe(0);
    // The kernel's ipvlan documentation: slaves cannot reach their master's own addresses.
    expect(await ping(netns, netns.container, '10.10.10.1')).not.toBe(0);

    const checked = await exec(netns, { command: 'CHECK', conf: { ...usersExample('1.1.0'), prevResult: added.result } });
    expect(checked.error).toBeUndefined();

    expect((await exec(netns, { command: 'DEL', conf: usersExample('1.1.0') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: other.path, containerId: 'pod2', conf: usersExample('1.1.0') })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect(await readLink(other, 'eth0')).toBeUndefined();
  });

  it('[0.3.1] two l3 pods reach each other; ADD and DEL through the built executable', async () => {
    const netns = await useTestNetns();
    await master(netns);
    const other = await pod();
    const conf = (address: string) => ({ ...usersExample('0.3.1', address), mode: 'l3', ipam: { type: 'static', addresses: [{ address }] } });
    const added = await exec(netns, { command: 'ADD', conf: conf('10.10.20.2/24') });
    expect(added.error).toBeUndefined();
    expect((added.result as { cniVersion: string }).cniVersion).toBe('0.3.1');
    expect(await ipvlanInfo(netns.container)).toMatchObject({ mode: 'l3' });
    const second = await exec(netns, { command: 'ADD', netns: other.path, containerId: 'pod2', conf: conf('10.10.20.3/24') });
    expect(second.error).toBeUndefined();
    expect(await ping(netns, other, '10.10.20.2')).toBe(0);
    expect((await exec(netns, { command: 'DEL', conf: conf('10.10.20.2/24') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: other.path, containerId: 'pod2', conf: conf('10.10.20.3/24') })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect(await readLink(other, 'eth0')).toBeUndefined();
  });

  it("gives the same result and container state as Debian's v1.1.1 ipvlan", async () => {
    const netns = await useTestNetns();
    await master(netns);
    // Debian's pod gets the same address: on its own master, since ipvlan refuses one address twice per master.
    await master(netns, netns.host, 'eth1001');
    const other = await pod();
    const conf = { ...usersExample('1.0.0'), mode: 'l3s', mtu: 1400, ipam: { type: 'static', addresses: [{ address: '10.10.10.2/24', gateway: '10.10.10.1' }], routes: [{ dst: '10.40.0.0/16' }] } };
    const ours = await exec(netns, { command: 'ADD', conf });
    const theirs = await exec(netns, { command: 'ADD', netns: other.path, containerId: 'pod2', conf: { ...conf, master: 'eth1001' } }, DEBIAN);
    expect(ours.error?.msg).toBeUndefined();
    expect(theirs.error?.msg).toBeUndefined();
    const normalise = (result: unknown, ns: TestNamespace) => {
      const copy = structuredClone(result) as Record<string, unknown> & { interfaces: { mac?: string; sandbox?: string }[] };
      for (const iface of copy.interfaces) {
        delete iface.mac;
        iface.sandbox = iface.sandbox === ns.path ? '<netns>' : String(iface.sandbox);
      }
      if (JSON.stringify(copy['dns']) === '{}') delete copy['dns']; // v1.1.1 prints an empty dns; upstream omits it
      return copy;
    };
    expect(normalise(ours.result, netns.container)).toEqual(normalise(theirs.result, other));
    const state = async (ns: TestNamespace) => {
      const link = await readLink(ns, 'eth0');
      return {
        kind: link?.linkinfo?.info_kind,
        mode: link?.linkinfo?.info_data?.['mode'],
        mtu: link?.mtu,
        up: link?.flags.includes('UP'),
        addresses: await readAddressList(ns, 'eth0', 4),
        routes: (await readRoutes(ns, { family: 4 })).map((route) => [route.dst, route.gateway ?? '', route.dev]),
      };
    };
    expect(await state(netns.container)).toEqual(await state(other));
    expect((await exec(netns, { command: 'DEL', conf })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: other.path, containerId: 'pod2', conf: { ...conf, master: 'eth1001' } }, DEBIAN)).exitCode).toBe(0);
  });

  it('with the master in the container: chains on prevResult, bounds the MTU, refuses a macvlan master and bad keys, leaving nothing (in process)', async () => {
    const netns = await useTestNetns();
    await master(netns, netns.container, 'net0');
    const base = { cniVersion: '1.1.0', name: 'chain', type: 'ipvlan', linkInContainer: true };

    // Chained after a plugin that reported net0 with an address: no master, no IPAM.
    const prevResult = { cniVersion: '1.1.0', interfaces: [{ name: 'net0', sandbox: netns.container.path }], ips: [{ address: '10.10.30.5/24', interface: 0 }] };
    const chained = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { cniVersion: '1.1.0', name: 'chain', type: 'ipvlan', mode: 'l3', prevResult } });
    expect(chained.error).toBeUndefined();
    expect(toCurrentResult(chained.result as Result).ips).toEqual([{ address: '10.10.30.5/24', interface: 0 }]);
    expect(await readAddressList(netns.container, 'eth1', 4)).toEqual(['10.10.30.5/24']);
    expect((await readLink(netns.container, 'eth1'))?.link).toBe('net0');
    const wrongMode = await inProcess(netns, { command: 'CHECK', ifName: 'eth1', conf: { ...base, prevResult: chained.result } });
    expect(wrongMode.error?.msg).toBe('container ipvlan mode l3 does not match expected value: l2');
    expect((await inProcess(netns, { command: 'DEL', ifName: 'eth1', conf: { ...base, prevResult } })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'eth1')).toBeUndefined();

    const twoIfaces = { ...prevResult, interfaces: [...prevResult.interfaces, { name: 'net1', sandbox: netns.container.path }] };
    const refused = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { cniVersion: '1.1.0', name: 'chain', type: 'ipvlan', prevResult: twoIfaces } });
    expect(refused.error).toMatchObject({ code: 7, msg: 'chained master failure. PrevResult lacks a single named interface' });

    const staticIpam = { type: 'static', addresses: [{ address: '10.10.30.6/24' }] };
    const tooBig = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { ...base, master: 'net0', mtu: 9000, ipam: staticIpam } });
    expect(tooBig.error).toMatchObject({ code: 7, msg: 'invalid MTU 9000, must be [0, master MTU(1500)]' });
    const badMode = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { ...base, master: 'net0', mode: 'l4', ipam: staticIpam } });
    expect(badMode.error).toMatchObject({ code: 7, msg: 'unknown ipvlan mode: "l4"' });
    const gone = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { ...base, master: 'net9', ipam: staticIpam } });
    expect(gone.error?.msg).toBe('failed to lookup master "net9" in the container: link not found');

    // The kernel gives a link one receive handler: a master that carries a macvlan cannot carry an ipvlan.
    await netns.execContainer(['ip', 'link', 'add', 'link', 'net0', 'name', 'mv0', 'type', 'macvlan']);
    const busy = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: { ...base, master: 'net0', ipam: staticIpam } });
    expect(busy.error?.msg).toBe(
      'failed to create ipvlan: master "net0" is already used by a macvlan, bridge or bond (the kernel allows one of them per master, not ipvlan beside them)',
    );
    const links = (await netns.execContainer(['ip', '-j', 'link', 'show'])).stdout;
    expect(JSON.parse(links).map((link: { ifname: string }) => link.ifname).sort()).toEqual(['lo', 'mv0', 'net0']);
  });
});
