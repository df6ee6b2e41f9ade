// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SPEC_VERSIONS, specVersionHas, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import { addBridge, addVethPair, execPlugin, readAddressList, readLink, readLinks, readRoutes, readSysctl, useTestNetns, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { createTapWithLabel } from './selinux.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const BUILT = `${BUNDLE}/tap`;
const staticIpam = { type: 'static', addresses: [{ address: '198.51.100.10/24', gateway: '198.51.100.1' }], routes: [{ dst: '0.0.0.0/0' }] };
const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'tap-test', type: 'tap', ipam: staticIpam, ...extra });

/** The built executable inside the test's host namespace, as a runtime runs it. */
const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'hostNetns'>) =>
  execPlugin(BUILT, { cniPath: BUNDLE, netns: netns.container, hostNetns: netns.host, ...options });

/** `ip -d -j link show` of a container link: the tun driver's view of the device. */
async function tunInfo(netns: TestNetns, dev = 'eth0'): Promise<Record<string, unknown> | undefined> {
  const [link] = JSON.parse((await netns.execContainer(['ip', '-d', '-j', 'link', 'show', 'dev', dev])).stdout) as {
    linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  }[];
  expect(link?.linkinfo?.info_kind).toBe('tun');
  return link?.linkinfo?.info_data;
}

describe.skipIf(process.getuid?.() !== 0)('tap on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] tap', (version) => {
    it('creates the tap with ADD, passes CHECK, and deletes it with DEL (built executable)', async () => {
      const netns = await useTestNetns();
      await netns.checkpoint();
      const added = await exec(netns, { command: 'ADD', conf: conf(version) });
      expect(added.error).toBeUndefined();
      expect((added.result as { cniVersion: string }).cniVersion).toBe(version);
      expect(await tunInfo(netns)).toMatchObject({ type: 'tap', pi: false, multi_queue: false });
      const link = await readLink(netns.container, 'eth0');
      expect(link?.flags).toContain('UP');
      expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['198.51.100.10/24']);
      expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_notify')).toBe('1');
      const result = toCurrentResult(added.result as Result);
      expect(result.ips?.map(({ address, gateway }) => ({ address, gateway }))).toEqual([{ address: '198.51.100.10/24', gateway: '198.51.100.1' }]);
      if (version !== '0.1.0' && version !== '0.2.0') expect(result.interfaces).toEqual([{ name: 'eth0', mac: link?.address, sandbox: netns.container.path }]);
      // Nothing of it on the host: the device was made from inside the container's namespace.
      expect((await readLinks(netns.host)).map((l) => l.ifname)).toEqual(['lo']);

      if (specVersionHas('check', version)) {
        expect((await exec(netns, { command: 'CHECK', conf: conf(version, { prevResult: added.result }) })).error).toBeUndefined();
      }
      const deleted = await exec(netns, { command: 'DEL', conf: conf(version) });
      expect(deleted.error).toBeUndefined();
      expect(deleted.exitCode, deleted.stderr).toBe(0);
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      if (specVersionHas('check', version)) {
        const checked = await exec(netns, { command: 'CHECK', conf: conf(version, { prevResult: added.result }) });
        expect(checked.error?.msg).toBe('cannot find container link eth0');
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(version) })).exitCode).toBe(0);
    });
  });

  it('sets multiQueue, owner, group, mtu and mac', async () => {
    const netns = await useTestNetns();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { multiQueue: true, owner: 54321, group: 54322, mtu: 9000, mac: '0e:00:00:00:7a:01' }) });
    expect(added.error).toBeUndefined();
    expect(await tunInfo(netns)).toMatchObject({ type: 'tap', multi_queue: true, user: 54321, group: 54322 });
    const link = await readLink(netns.container, 'eth0');
    expect(link?.mtu).toBe(9000);
    expect(link?.address).toBe('0e:00:00:00:7a:01');
    expect((added.result as ResultV100).interfaces?.[0]?.mac).toBe('0e:00:00:00:7a:01');
    expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0') })).exitCode).toBe(0);

    const owned = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { owner: 54323 }) });
    expect(owned.error).toBeUndefined();
    const info = await tunInfo(netns);
    expect(info).toMatchObject({ user: 54323, multi_queue: false });
    expect(info?.['group']).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0') })).exitCode).toBe(0);
  });

  it('takes the MAC from CNI_ARGS MAC and runtimeConfig.mac over mac', async () => {
    const netns = await useTestNetns();
    const cases: [Record<string, unknown>, string | undefined, string][] = [
      [{ mac: '0e:00:00:00:7a:01' }, 'MAC=0e:00:00:00:7a:02', '0e:00:00:00:7a:02'],
      [{ mac: '0e:00:00:00:7a:01', runtimeConfig: { mac: '0e:00:00:00:7a:03' } }, 'MAC=0e:00:00:00:7a:02', '0e:00:00:00:7a:03'],
    ];
    for (const [extra, args, expected] of cases) {
      // Static IPAM reads CNI_ARGS too: it knows no MAC, so IgnoreUnknown.
      const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', extra), args: `IgnoreUnknown=1;${args}` });
      expect(added.error).toBeUndefined();
      expect((await readLink(netns.container, 'eth0'))?.address).toBe(expected);
      expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0') })).exitCode).toBe(0);
    }
  });

  it('without IPAM brings an L2-only tap up and reports the config dns', async () => {
    const netns = await useTestNetns();
    const dns = { nameservers: ['198.51.100.53'] };
    const { ipam: _, ...l2 } = conf('1.1.0', { dns });
    const added = await exec(netns, { command: 'ADD', conf: l2 });
    expect(added.result).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mac: (await readLink(netns.container, 'eth0'))?.address, sandbox: netns.container.path }],
      dns,
    });
    expect((await readLink(netns.container, 'eth0'))?.flags).toContain('UP');
    expect((await exec(netns, { command: 'CHECK', conf: { ...l2, prevResult: added.result } })).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: l2 })).exitCode).toBe(0);
  });

  it('makes the tap a port of a bridge inside the container, and refuses a bridge that is missing or not a bridge', async () => {
    const netns = await useTestNetns();
    await addBridge(netns.container, 'br0', { addresses: ['198.51.100.1/24'] });
    await addVethPair({ ns: netns.container, name: 'notbr0' }, { ns: netns.host, name: 'outside0' });
    await netns.checkpoint();
    const { ipam: _, ...l2 } = conf('1.1.0');
    const added = await exec(netns, { command: 'ADD', conf: { ...l2, bridge: 'br0' } });
    expect(added.error).toBeUndefined();
    expect((await readLink(netns.container, 'eth0'))?.master).toBe('br0');
    expect((await exec(netns, { command: 'DEL', conf: { ...l2, bridge: 'br0' } })).exitCode).toBe(0);

    const missing = await exec(netns, { command: 'ADD', conf: { ...l2, bridge: 'absent0' } });
    expect(missing.error).toEqual({ code: 999, msg: 'failed to get bridge absent0: link not found' });
    const notBridge = await exec(netns, { command: 'ADD', conf: { ...l2, bridge: 'notbr0' } });
    expect(notBridge.error?.msg).toMatch(/^failed to set tap eth0 as a port of bridge notbr0: /);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
  });

  it('accepts selinuxContext and reports clearly that it cannot apply it where SELinux is off, leaving nothing', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const ipam = { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet: '198.51.100.0/24' }]] };
    const context = 'system_u:system_r:svirt_t:s0:c1,c2';
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { selinuxContext: context, ipam }) });
    expect(added.error).toEqual({
      code: 999,
      msg: `failed to apply selinuxContext "${context}": SELinux is not enabled on this host (no /sys/fs/selinux/enforce)`,
    });
    expect((await readLinks(netns.container)).map((l) => l.ifname)).toEqual(['lo']);
    expect(readdirSync(netns.dir)).not.toContain('tap-test');
    // DEL of such a configuration still succeeds (nothing was made).
    expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0', { selinuxContext: context, ipam }) })).exitCode).toBe(0);
  });

  it('with a SELinux filesystem present, fails on the label write the kernel refuses and makes no device', async () => {
    const netns = await useTestNetns();
    // A fake selinuxfs: the kernel still has no SELinux, so setting the exec label fails, as it
    // would on a host where the policy rejects the context.
    const selinuxfs = join(netns.dir, 'selinux');
    mkdirSync(selinuxfs);
    writeFileSync(join(selinuxfs, 'enforce'), '1');
    expect(() =>
      createTapWithLabel(netns.container.path, 'system_u:system_r:svirt_t:s0', { name: 'tap0', multiQueue: false, owner: undefined, group: undefined }, selinuxfs),
    ).toThrow(/^failed set socket label: /);
    expect((await readLinks(netns.container)).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('refuses bad input naming key and value, leaving nothing behind', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const bad: [Record<string, unknown>, { code: number; msg: string | RegExp }][] = [
      [{ mtu: -5 }, { code: 7, msg: 'invalid mtu -5, must be a non-negative integer' }],
      [{ owner: 'root' }, { code: 7, msg: 'invalid owner "root", must be an integer in [0, 4294967295]' }],
      [{ multiQueue: 1 }, { code: 7, msg: 'invalid multiQueue 1, must be a boolean' }],
      [{ mac: 'ff' }, { code: 7, msg: 'invalid mac "ff", must be a MAC address such as "0e:00:00:00:00:01"' }],
      [{ mtu: 70000 }, { code: 999, msg: /^failed to create tap: / }],
    ];
    for (const [extra, error] of bad) {
      const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', extra) });
      expect(added.error?.code, JSON.stringify(extra)).toBe(error.code);
      if (typeof error.msg === 'string') expect(added.error?.msg).toBe(error.msg);
      else expect(added.error?.msg).toMatch(error.msg);
    }
  });

  it('deletes the tap and releases the lease when ADD fails after IPAM', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const ipam = { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet: '198.51.100.0/24' }]], routes: [{ dst: '10.0.0.0/8', gw: '203.0.113.1' }] };
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', { ipam }) });
    expect(added.error?.msg).toMatch(/^failed to add route '10\.0\.0\.0\/8 via 203\.0\.113\.1 dev eth0 /);
    expect((await readLinks(netns.container)).map((l) => l.ifname)).toEqual(['lo']);
    expect(readdirSync(join(netns.dir, 'tap-test')).filter((file) => /^\d/.test(file))).toEqual([]);
  });

  it('GC releases the leases of attachments not in cni.dev/valid-attachments and keeps live ones', async () => {
    const netns = await useTestNetns();
    const ipam = { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet: '198.51.100.0/24' }]] };
    const live = await exec(netns, { command: 'ADD', containerId: 'live', conf: conf('1.1.0', { ipam }) });
    const stale = await exec(netns, { command: 'ADD', containerId: 'stale', ifName: 'eth1', conf: conf('1.1.0', { ipam }) });
    expect(live.error).toBeUndefined();
    expect(stale.error).toBeUndefined();
    const leases = () => readdirSync(join(netns.dir, 'tap-test')).filter((file) => /^\d/.test(file));
    expect(leases()).toHaveLength(2);
    const gc = await exec(netns, { command: 'GC', conf: conf('1.1.0', { ipam, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] }) });
    expect(gc.exitCode).toBe(0);
    expect(leases()).toEqual([(live.result as ResultV100).ips![0]!.address.split('/')[0]]);
    expect((await readRoutes(netns.container, { family: 4 })).length).toBeGreaterThan(0);
    expect((await exec(netns, { command: 'STATUS', conf: conf('1.1.0', { ipam }) })).exitCode).toBe(0);
  });

  it('succeeds DEL when the tap or the namespace is gone', async () => {
    const netns = await useTestNetns();
    expect((await exec(netns, { command: 'DEL', conf: conf('1.1.0') })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', netns: '/var/run/netns/cnitest-gone', conf: conf('1.1.0') })).exitCode).toBe(0);
  });
});
