// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { toCurrentResult, type Result } from '@cni/spec';
import { execPlugin, readAddressList, readLink, runInProcess, useTestNetns, type PluginRunOptions, type TestNamespace, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { bond } from './index.ts';

// The host kernel has no bonding (nor dummy links): these run in the VM tier's cloud kernel (run-vm-tier.mjs).

const BUNDLE = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));

const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({
  cniVersion,
  name: 'bond-test',
  type: 'bond',
  mode: 'active-backup',
  miimon: '100',
  links: [{ name: 'lnk0' }, { name: 'lnk1' }],
  ipam: { type: 'static', addresses: [{ address: '10.90.0.2/24' }] },
  ...extra,
});

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) =>
  execPlugin(`${BUNDLE}/bond`, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

// With linksInContainer everything happens in the container: the plugin may run in the test process's namespace.
const inProcess = (netns: TestNetns, options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(bond, io), { cniPath: BUNDLE, netns: netns.container, ...options });

/** Two dummy links: lnk0 up with an alias, lnk1 down, as ADD should find them and DEL leave them. */
async function links(netns: TestNetns, ns: TestNamespace): Promise<void> {
  const run = (argv: string[]) => netns.execHost(['ip', '-n', ns.name, ...argv]);
  await run(['link', 'add', 'lnk0', 'type', 'dummy']);
  await run(['link', 'set', 'lnk0', 'alias', 'uplink a']);
  await run(['link', 'set', 'lnk0', 'up']);
  await run(['link', 'add', 'lnk1', 'type', 'dummy']);
}

async function linkState(ns: TestNamespace, name: string) {
  const link = await readLink(ns, name);
  return link === undefined ? undefined : { up: link.flags.includes('UP'), alias: link['ifalias'] ?? '', address: link.address, master: link.master };
}

describe('bond in the VM kernel', () => {
  it('[1.1.0] bonds two host links in the container, CHECK, and DEL gives them back as found (built executable)', async () => {
    const netns = await useTestNetns();
    await links(netns, netns.host);
    const before = { lnk0: await linkState(netns.host, 'lnk0'), lnk1: await linkState(netns.host, 'lnk1') };
    const config = conf('1.1.0', { failOverMac: 1 });

    const added = await exec(netns, { command: 'ADD', conf: config });
    expect(added.error?.msg).toBeUndefined();
    const eth0 = await readLink(netns.container, 'eth0');
    expect(toCurrentResult(added.result as Result)).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: eth0?.address, sandbox: netns.container.path }],
      ips: [{ address: '10.90.0.2/24', interface: 0 }],
    });
    expect(eth0?.linkinfo?.info_kind).toBe('bond');
    expect(eth0?.linkinfo?.info_data).toMatchObject({ mode: 'active-backup', miimon: 100, fail_over_mac: 'active' });
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.90.0.2/24']);
    expect((await readLink(netns.container, 'lnk0'))?.master).toBe('eth0');
    expect((await readLink(netns.container, 'lnk1'))?.master).toBe('eth0');
    expect(await readLink(netns.host, 'lnk0')).toBeUndefined();

    expect((await exec(netns, { command: 'CHECK', conf: { ...config, prevResult: added.result } })).error).toBeUndefined();
    const wrong = await exec(netns, { command: 'CHECK', conf: { ...config, mode: 'balance-rr', prevResult: added.result } });
    expect(wrong.error?.msg).toBe('bond "eth0" has mode active-backup, expected balance-rr');

    expect((await exec(netns, { command: 'DEL', conf: config })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect({ lnk0: await linkState(netns.host, 'lnk0'), lnk1: await linkState(netns.host, 'lnk1') }).toEqual(before);
    expect((await exec(netns, { command: 'DEL', conf: config })).exitCode).toBe(0);
  });

  it('[0.3.1] bonds links already in the container and releases them there (in process)', async () => {
    const netns = await useTestNetns();
    await links(netns, netns.container);
    const config = conf('0.3.1', { linksInContainer: true, mode: 'balance-xor', mtu: 1400, xmitHashPolicy: 'layer3+4', allSlavesActive: 1 });
    const added = await inProcess(netns, { command: 'ADD', ifName: 'bond0', conf: config });
    expect(added.error?.msg).toBeUndefined();
    expect((added.result as { cniVersion: string }).cniVersion).toBe('0.3.1');
    const bond0 = await readLink(netns.container, 'bond0');
    expect(bond0?.linkinfo?.info_data).toMatchObject({ mode: 'balance-xor', xmit_hash_policy: 'layer3+4', all_slaves_active: 1 });
    expect(bond0?.mtu).toBe(1400);
    expect((await readLink(netns.container, 'lnk1'))?.master).toBe('bond0');
    expect((await inProcess(netns, { command: 'DEL', ifName: 'bond0', conf: config })).exitCode).toBe(0);
    expect(await readLink(netns.container, 'bond0')).toBeUndefined();
    expect(await linkState(netns.container, 'lnk0')).toMatchObject({ up: true, alias: 'uplink a', master: undefined });
    expect(await linkState(netns.container, 'lnk1')).toMatchObject({ up: false, alias: '', master: undefined });
  });

  it('refuses host links that carry an address or the default route, and a missing link, moving nothing (built executable)', async () => {
    const netns = await useTestNetns();
    await links(netns, netns.host);
    await netns.execHost(['ip', 'addr', 'add', '192.0.2.9/24', 'dev', 'lnk1']);
    const addressed = await exec(netns, { command: 'ADD', conf: conf('1.1.0') });
    expect(addressed.error).toEqual({ code: 7, msg: 'refusing to take link "lnk1" from the host into a bond: it has address 192.0.2.9/24' });
    await netns.execHost(['ip', 'addr', 'flush', 'dev', 'lnk1']);
    await netns.execHost(['ip', 'route', 'add', 'default', 'dev', 'lnk0']);
    const routed = await exec(netns, { command: 'ADD', conf: conf('1.1.0') });
    expect(routed.error?.msg).toBe('refusing to take link "lnk0" from the host into a bond: it carries the host\'s default route');
    const missing = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { links: [{ name: 'lnk1' }, { name: 'lnk9' }] }) });
    expect(missing.error?.msg).toBe('link "lnk9" of links not found on the host');
    expect((await readLink(netns.host, 'lnk0'))?.['ifalias']).toBe('uplink a');
    expect(await readLink(netns.host, 'lnk1')).toBeDefined();
    const inContainer = JSON.parse((await netns.execContainer(['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[];
    expect(inContainer.map((link) => link.ifname)).toEqual(['lo']);
  });
});
