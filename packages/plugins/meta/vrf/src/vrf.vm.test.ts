// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { execPlugin, readAddressList, readLink, readRoutes, runInProcess, useTestNetns, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { vrf } from './index.ts';

// The host kernel has no vrf: these run in the VM tier's cloud kernel (run-vm-tier.mjs).

const BUNDLE = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));

/** The interface a previous plugin made: a dummy with an IPv4 and an IPv6 address and a route through a gateway. */
async function previousPlugin(netns: TestNetns, ifName: string, n: number): Promise<Record<string, unknown>> {
  const run = (argv: string[]) => netns.execContainer(argv);
  await run(['ip', 'link', 'add', ifName, 'type', 'dummy']);
  await run(['ip', 'addr', 'add', `10.70.${n}.2/24`, 'dev', ifName]);
  await run(['ip', 'addr', 'add', `2001:db8:70:${n}::2/64`, 'dev', ifName, 'nodad']);
  await run(['ip', 'link', 'set', ifName, 'up']);
  await run(['ip', 'route', 'add', `10.80.${n}.0/24`, 'via', `10.70.${n}.1`, 'dev', ifName]);
  return {
    cniVersion: '1.1.0',
    interfaces: [{ name: ifName, sandbox: netns.container.path }],
    ips: [{ address: `10.70.${n}.2/24`, gateway: `10.70.${n}.1`, interface: 0 }],
    routes: [{ dst: `10.80.${n}.0/24`, gw: `10.70.${n}.1` }],
  };
}

const conf = (cniVersion: string, prevResult: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
  cniVersion,
  name: 'vrf-test',
  type: 'vrf',
  vrfname: 'blue',
  ...(prevResult ? { prevResult: { ...prevResult, cniVersion } } : {}),
  ...extra,
});

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) =>
  execPlugin(`${BUNDLE}/vrf`, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

// The VRF lives only in the container, so the plugin may run in the test process's namespace.
const inProcess = (netns: TestNetns, options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(vrf, io), { cniPath: BUNDLE, netns: netns.container, ...options });

describe('vrf in the VM kernel', () => {
  describe.each(['0.3.1', '1.1.0'])('[%s] vrf', (version) => {
    it('moves the interface into a new VRF keeping addresses and routes, passes CHECK, and DEL removes the VRF', async () => {
      const netns = await useTestNetns();
      const prev = await previousPlugin(netns, 'eth0', 1);
      // Table 1 is in use (a route some other plugin put there): the VRF must not take it.
      await netns.execContainer(['ip', 'route', 'add', 'blackhole', '10.99.0.0/16', 'table', '1']);
      const run = version === '1.1.0' ? (options: Omit<PluginRunOptions, 'hostNetns'>) => exec(netns, options) : (options: PluginRunOptions) => inProcess(netns, options);

      const added = await run({ command: 'ADD', conf: conf(version, prev) });
      expect(added.error?.msg).toBeUndefined();
      // prevResult passes through unchanged (0.3.1 prints its `version` keys and an empty dns).
      expect(added.result).toMatchObject({ cniVersion: version, interfaces: prev['interfaces'], routes: prev['routes'] });
      expect((added.result as { ips: { address: string }[] }).ips.map((ip) => ip.address)).toEqual(['10.70.1.2/24']);
      const blue = await readLink(netns.container, 'blue');
      expect(blue?.linkinfo?.info_kind).toBe('vrf');
      expect(blue?.linkinfo?.info_data).toMatchObject({ table: 2 });
      expect((await readLink(netns.container, 'eth0'))?.master).toBe('blue');
      expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.70.1.2/24', '2001:db8:70:1::2/64']);
      const inTable = await readRoutes(netns.container, { family: 4, table: 2 });
      expect(inTable.find((route) => route.dst === '10.80.1.0/24')?.gateway).toBe('10.70.1.1');
      expect(inTable.some((route) => route.dst === '10.70.1.0/24')).toBe(true);

      if (version === '1.1.0') {
        expect((await run({ command: 'CHECK', conf: conf(version, prev) })).error).toBeUndefined();
        const wrong = await run({ command: 'CHECK', conf: conf(version, prev, { table: 7 }) });
        expect(wrong.error?.msg).toBe('VRF "blue" has routing table 2, expected 7');
      }
      expect((await run({ command: 'DEL', conf: conf(version, undefined) })).exitCode).toBe(0);
      expect(await readLink(netns.container, 'blue')).toBeUndefined();
      expect((await readLink(netns.container, 'eth0'))?.master).toBeUndefined();
      expect((await run({ command: 'DEL', conf: conf(version, undefined) })).exitCode).toBe(0);
    });
  });

  it('holds several interfaces of a pod, removed with the last; refuses a table clash and an enslaved interface (in process)', async () => {
    const netns = await useTestNetns();
    const prev0 = await previousPlugin(netns, 'eth0', 1);
    const prev1 = await previousPlugin(netns, 'eth1', 2);
    const withTable = { table: 100 };
    expect((await inProcess(netns, { command: 'ADD', conf: conf('1.1.0', prev0, withTable) })).error).toBeUndefined();
    expect((await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: conf('1.1.0', prev1, withTable) })).error).toBeUndefined();
    expect((await readLink(netns.container, 'eth1'))?.master).toBe('blue');
    expect((await readRoutes(netns.container, { family: 4, table: 100 })).some((route) => route.dst === '10.80.2.0/24')).toBe(true);

    await previousPlugin(netns, 'eth2', 3);
    const clash = await inProcess(netns, { command: 'ADD', ifName: 'eth2', conf: conf('1.1.0', prev1, { table: 101 }) });
    expect(clash.error?.msg).toBe('VRF "blue" already exists with a different routing table 100 (configured: 101)');
    await netns.execContainer(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await netns.execContainer(['ip', 'link', 'set', 'eth2', 'master', 'br0']);
    const enslaved = await inProcess(netns, { command: 'ADD', ifName: 'eth2', conf: conf('1.1.0', prev1, { vrfname: 'red' }) });
    expect(enslaved.error?.msg).toBe('interface "eth2" has already a master set: br0');
    expect(await readLink(netns.container, 'red')).toBeUndefined(); // the VRF this ADD made is gone again

    expect((await inProcess(netns, { command: 'DEL', conf: conf('1.1.0', undefined) })).exitCode).toBe(0);
    expect((await readLink(netns.container, 'blue'))?.linkinfo?.info_kind).toBe('vrf');
    expect((await inProcess(netns, { command: 'DEL', ifName: 'eth1', conf: conf('1.1.0', undefined) })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'blue')).toBeUndefined();
  });
});
