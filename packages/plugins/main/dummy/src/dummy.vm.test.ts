// SPDX-License-Identifier: Apache-2.0
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { specVersionHas, toCurrentResult, type Result } from '@cni/spec';
import { execPlugin, readAddressList, readLink, readRoutes, runInProcess, useTestNetns, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { dummy } from './index.ts';

// The host kernel has no dummy links: these run in the VM tier's cloud kernel (run-vm-tier.mjs).

const BUNDLE = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));

function conf(netns: TestNetns, cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion,
    name: 'dummy-test',
    type: 'dummy',
    ipam: { type: 'host-local', dataDir: netns.dir, subnet: '10.20.0.0/24', routes: [{ dst: '10.30.0.0/16' }] },
    ...extra,
  };
}

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) =>
  execPlugin(`${BUNDLE}/dummy`, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

// A dummy lives only in the container, so the plugin may run in the test process's namespace.
const inProcess = (netns: TestNetns, options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(dummy, io), { cniPath: BUNDLE, netns: netns.container, ...options });

const leases = (netns: TestNetns): string[] => {
  try {
    return readdirSync(`${netns.dir}/dummy-test`).filter((file) => /^\d/.test(file));
  } catch {
    return [];
  }
};

describe('dummy in the VM kernel', () => {
  describe.each(['0.3.1', '1.1.0'])('[%s] dummy', (version) => {
    // The newest version through the built executable, the oldest in process (the VM tier's budget).
    it(`configures with ADD, passes CHECK, and deconfigures with DEL (${version === '1.1.0' ? 'built executable' : 'in process'})`, async () => {
      const netns = await useTestNetns();
      const run = (options: Omit<PluginRunOptions, 'hostNetns'>) => (version === '1.1.0' ? exec(netns, options) : inProcess(netns, options));
      const added = await run({ command: 'ADD', conf: conf(netns, version) });
      expect(added.error).toBeUndefined();
      expect((added.result as { cniVersion: string }).cniVersion).toBe(version);
      const result = toCurrentResult(added.result as Result);
      const link = await readLink(netns.container, 'eth0');
      expect(link?.linkinfo?.info_kind).toBe('dummy');
      expect(link?.flags).toContain('UP');
      expect(result.interfaces).toEqual([{ name: 'eth0', mac: link?.address, sandbox: netns.container.path }]);
      expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.20.0.2/24']);
      expect(result.ips?.map((ip) => [ip.address, ip.interface])).toEqual([['10.20.0.2/24', 0]]);
      expect((await readRoutes(netns.container, { family: 4 })).find((route) => route.dst === '10.30.0.0/16')?.gateway).toBe('10.20.0.1');
      if (specVersionHas('check', version)) {
        const checked = await run({ command: 'CHECK', conf: conf(netns, version, { prevResult: added.result }) });
        expect(checked.error).toBeUndefined();
      }
      expect((await run({ command: 'DEL', conf: conf(netns, version) })).exitCode).toBe(0);
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      expect(leases(netns)).toEqual([]);
      expect((await inProcess(netns, { command: 'DEL', conf: conf(netns, version) })).exitCode).toBe(0);
    });
  });

  it('fails cleanly: a name taken, IPAM failing; CHECK names a link down or of another kind (in process)', async () => {
    const netns = await useTestNetns();
    await netns.execContainer(['ip', 'link', 'add', 'eth0', 'type', 'dummy']);
    const taken = await inProcess(netns, { command: 'ADD', conf: conf(netns, '1.1.0') });
    expect(taken.error?.msg).toMatch(/^failed to create dummy "eth0": /);
    expect(leases(netns)).toEqual([]);
    expect(await readLink(netns.container, 'eth0')).toBeDefined();

    const badIpam = conf(netns, '1.1.0', { ipam: { type: 'host-local', dataDir: netns.dir, subnet: 'nope' } });
    const failed = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: badIpam });
    expect(failed.error?.msg).toContain('nope');
    expect(await readLink(netns.container, 'eth1')).toBeUndefined();

    const added = await inProcess(netns, { command: 'ADD', ifName: 'eth1', conf: conf(netns, '1.1.0') });
    expect(added.error).toBeUndefined();
    const check = () => inProcess(netns, { command: 'CHECK', ifName: 'eth1', conf: conf(netns, '1.1.0', { prevResult: added.result }) });
    await netns.execContainer(['ip', 'link', 'set', 'eth1', 'down']);
    expect((await check()).error?.msg).toBe('interface "eth1" is down');
    await netns.execContainer(['ip', 'link', 'del', 'eth1']);
    await netns.execContainer(['ip', 'link', 'add', 'eth1', 'type', 'bridge']);
    expect((await check()).error?.msg).toBe('container interface "eth1" is a bridge, not a dummy');
    expect((await inProcess(netns, { command: 'DEL', ifName: 'eth1', conf: conf(netns, '1.1.0') })).exitCode).toBe(0);
    expect(leases(netns)).toEqual([]);
  });

  it('GC releases the leases of attachments not listed and keeps the listed ones; STATUS asks IPAM (in process)', async () => {
    const netns = await useTestNetns();
    // No routes: two interfaces of one namespace would both add the same one.
    const config = conf(netns, '1.1.0', { ipam: { type: 'host-local', dataDir: netns.dir, subnet: '10.20.0.0/24' } });
    expect((await inProcess(netns, { command: 'ADD', containerId: 'live', ifName: 'eth0', conf: config })).error?.msg).toBeUndefined();
    expect((await inProcess(netns, { command: 'ADD', containerId: 'stale', ifName: 'eth1', conf: config })).error?.msg).toBeUndefined();
    expect(leases(netns).sort()).toEqual(['10.20.0.2', '10.20.0.3']);
    const valid = { ...config, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] };
    expect((await inProcess(netns, { command: 'GC', conf: valid })).exitCode).toBe(0);
    expect(leases(netns)).toEqual(['10.20.0.2']);
    expect((await inProcess(netns, { command: 'STATUS', conf: config })).exitCode).toBe(0);
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.20.0.2/24']);
  });
});
