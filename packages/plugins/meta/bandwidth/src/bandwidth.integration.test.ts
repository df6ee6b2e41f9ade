// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specVersionHas, versionsStartingFrom } from '@cni/spec';
import {
  addVethPair,
  createChain,
  execPlugin,
  execRunner,
  readLinks,
  readQdiscs,
  tcJson,
  useTestNetns,
  type PluginRunOptions,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { ifbName } from './index.ts';

const BUILT = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/bandwidth', import.meta.url));
const DEBIAN = '/usr/lib/cni';
const TCP_RATE = fileURLToPath(new URL('./__fixtures__/tcp-rate.mjs', import.meta.url));
const root = process.getuid?.() === 0;
const legacy = (version: string) => version.startsWith('0.');

/** A container eth0 (10.50.0.2) with its veth peer veth-h (10.50.0.1) in the test's host namespace. */
async function setup(options: { checkpoint?: boolean } = {}): Promise<TestNetns> {
  const netns = await useTestNetns();
  await addVethPair({ ns: netns.host, name: 'veth-h' }, { ns: netns.container, name: 'eth0' }, { addresses: ['10.50.0.1/24'], peerAddresses: ['10.50.0.2/24'] });
  if (options.checkpoint ?? true) await netns.checkpoint();
  return netns;
}

function prevResult(version: string, netns: TestNetns) {
  return {
    cniVersion: version,
    interfaces: [{ name: 'veth-h' }, { name: 'eth0', sandbox: netns.container.path }],
    ips: [{ ...(legacy(version) ? { version: '4' } : {}), interface: 1, address: '10.50.0.2/24' }],
  };
}

const LIMITS = { ingressRate: 8_000_000, ingressBurst: 800_000, egressRate: 16_000_000, egressBurst: 1_600_000 };

const conf = (version: string, netns: TestNetns, extra: Record<string, unknown> = LIMITS) => ({
  cniVersion: version,
  name: 'bw-test',
  type: 'bandwidth',
  prevResult: prevResult(version, netns),
  ...extra,
});

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'netns' | 'hostNetns'>) =>
  execPlugin(BUILT, { cniPath: '/nonexistent', netns: netns.container, hostNetns: netns.host, ...options });

/** The qdiscs of the host namespace as `tc -j` shows them, without the kernel's defaults and counters. */
async function qdiscs(netns: TestNetns) {
  return (await readQdiscs(netns.host))
    .filter((qdisc) => qdisc.kind === 'tbf' || qdisc.kind === 'ingress')
    .map(({ kind, handle, dev, root: isRoot, options }) => ({ kind, handle, dev, root: isRoot, options }));
}

/** The mirred actions of the veth's ingress filters: what each redirects where. */
async function redirects(netns: TestNetns): Promise<string[]> {
  const filters = await tcJson<{ options?: { actions?: { kind: string; mirred_action: string; direction: string; to_dev: string; control_action?: { type: string } }[] } }[]>(netns.host, ['filter', 'show', 'dev', 'veth-h', 'ingress']);
  return filters.flatMap((filter) => (filter.options?.actions ?? []).filter((action) => action.control_action?.type === 'stolen').map((action) => `${action.kind} ${action.direction} ${action.mirred_action} ${action.to_dev}`));
}

const ifbs = async (netns: TestNetns) => (await readLinks(netns.host)).filter((link) => link.linkinfo?.info_kind === 'ifb').map((link) => link.ifname);

/** The rate of a TCP stream from `from` to `to` (address `toAddress`), measured by the receiver over `ms`. */
async function measure(netns: TestNetns, direction: 'to-container' | 'from-container', ms = 1500): Promise<number> {
  const [sender, receiver, address] = direction === 'to-container' ? [netns.host, netns.container, '10.50.0.2'] : [netns.container, netns.host, '10.50.0.1'];
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  const received = netns.execHost(['ip', 'netns', 'exec', receiver.name, process.execPath, TCP_RATE, 'recv', address, port, String(ms)], { env });
  const sent = netns.execHost(['ip', 'netns', 'exec', sender.name, process.execPath, TCP_RATE, 'send', address, port], { env });
  const [out] = await Promise.all([received, sent]);
  return (JSON.parse(out.stdout) as { bitsPerSecond: number }).bitsPerSecond;
}

describe.skipIf(!root)('bandwidth on the host kernel', () => {
  describe.each(versionsStartingFrom('0.3.0'))('[%s] bandwidth', (version) => {
    it('shapes both directions on ADD, passes CHECK, removes the ifb and qdiscs on DEL (built executable)', async () => {
      const netns = await setup();
      const ifb = ifbName('bw-test', 'cnitest');
      const added = await exec(netns, { command: 'ADD', conf: conf(version, netns) });
      expect(added.error).toBeUndefined();
      const result = added.result as { interfaces: { name: string; mac?: string }[] };
      expect(result.interfaces.map((iface) => iface.name)).toEqual(['veth-h', 'eth0', ifb]);
      expect(result.interfaces[2]!.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

      expect(await qdiscs(netns)).toEqual([
        { kind: 'tbf', handle: '1:', dev: 'veth-h', root: true, options: { rate: 1_000_000, burst: 100_000, lat: 25_000 } },
        { kind: 'ingress', handle: 'ffff:', dev: 'veth-h', root: undefined, options: {} },
        { kind: 'tbf', handle: '1:', dev: ifb, root: true, options: { rate: 2_000_000, burst: 200_000, lat: 25_000 } },
      ]);
      expect(await redirects(netns)).toEqual([`mirred egress redirect ${ifb}`]);
      const ifbLink = (await readLinks(netns.host)).find((link) => link.ifname === ifb)!;
      expect(ifbLink.mtu).toBe(1500);
      // ip -j leaves txqlen out when it is 0.
      expect(ifbLink.txqlen ?? 0).toBe(0);
      expect(ifbLink.flags).toContain('UP');

      if (specVersionHas('check', version)) {
        const checkConf = conf(version, netns, { ...LIMITS, prevResult: added.result });
        expect((await exec(netns, { command: 'CHECK', conf: checkConf })).error).toBeUndefined();
        // A different rate in either direction fails CHECK.
        const other = await exec(netns, { command: 'CHECK', conf: { ...checkConf, ingressRate: 4_000_000 } });
        expect(other.error?.msg).toBe('rate of the tbf qdisc of "veth-h" is 1000000 bytes/s, configured 500000');
        const otherEgress = await exec(netns, { command: 'CHECK', conf: { ...checkConf, egressBurst: 800_000 } });
        expect(otherEgress.error?.msg).toContain(`of the tbf qdisc of "${ifb}"`);
      }

      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns, { ...LIMITS, prevResult: added.result }) })).exitCode).toBe(0);
      expect(await ifbs(netns)).toEqual([]);
      expect(await qdiscs(netns)).toEqual([]);
      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns) })).exitCode).toBe(0);
    });
  });

  it('refuses spec versions before 0.3.0', async () => {
    const netns = await setup();
    const added = await exec(netns, { command: 'ADD', conf: { ...conf('0.2.0', netns), prevResult: undefined } });
    expect(added.error?.code).toBe(1);
  });

  it('shapes traffic: well below the unshaped rate and not above 1.5 times the limit, both directions', async () => {
    const netns = await setup({ checkpoint: false });
    const unshapedIn = await measure(netns, 'to-container', 800);
    const unshapedOut = await measure(netns, 'from-container', 800);
    const limits = { ingressRate: 4_000_000, ingressBurst: 80_000, egressRate: 8_000_000, egressBurst: 80_000 };
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns, limits) });
    expect(added.error).toBeUndefined();
    const shapedIn = await measure(netns, 'to-container');
    const shapedOut = await measure(netns, 'from-container');
    expect(shapedIn).toBeLessThan(unshapedIn / 10);
    expect(shapedOut).toBeLessThan(unshapedOut / 10);
    expect(shapedIn).toBeLessThanOrEqual(1.5 * limits.ingressRate);
    expect(shapedOut).toBeLessThanOrEqual(1.5 * limits.egressRate);
    // And the limit is what limits it, not something else: a real fraction of it gets through.
    expect(shapedIn).toBeGreaterThan(0.5 * limits.ingressRate);
    expect(shapedOut).toBeGreaterThan(0.5 * limits.egressRate);
    console.info(`bandwidth: unshaped ${(unshapedIn / 1e6).toFixed(0)}/${(unshapedOut / 1e6).toFixed(0)} Mbit/s, shaped ${(shapedIn / 1e6).toFixed(2)}/${(shapedOut / 1e6).toFixed(2)} Mbit/s (limits 4/8)`);
    expect((await exec(netns, { command: 'DEL', conf: conf('1.0.0', netns, limits) })).exitCode).toBe(0);
  });

  it('takes the limits from runtimeConfig.bandwidth, and only ingress when only ingress is set', async () => {
    const netns = await setup();
    const c = conf('1.0.0', netns, { runtimeConfig: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 800_000 } } });
    const added = await exec(netns, { command: 'ADD', conf: c });
    expect(added.error).toBeUndefined();
    expect(await qdiscs(netns)).toEqual([{ kind: 'tbf', handle: '1:', dev: 'veth-h', root: true, options: { rate: 1_000_000, burst: 100_000, lat: 25_000 } }]);
    expect(await ifbs(netns)).toEqual([]);
    expect((await exec(netns, { command: 'CHECK', conf: c })).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
  });

  it('passes the result through when nothing is limited', async () => {
    const netns = await setup();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns, {}) });
    expect(added.result).toEqual(prevResult('1.0.0', netns));
    expect(await qdiscs(netns)).toEqual([]);
  });

  it.each([
    [{ ingressRate: 8000 }, 'invalid ingressRate 8000: if rate is set, burst must also be set'],
    [{ egressBurst: 8000 }, 'invalid egressBurst 8000: if burst is set, rate must also be set'],
    [{ egressRate: 'fast', egressBurst: 1 }, 'invalid egressRate "fast"'],
  ])('refuses %j with code 7, and leaves nothing', async (extra, message) => {
    const netns = await setup();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns, extra) });
    expect(added.error).toEqual({ code: 7, msg: expect.stringContaining(message) });
  });

  it('leaves nothing when ADD fails halfway (the ifb name is taken)', async () => {
    const netns = await setup({ checkpoint: false });
    await netns.execHost(['ip', 'link', 'add', ifbName('bw-test', 'cnitest'), 'type', 'ifb']);
    await netns.checkpoint();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns) });
    expect(added.error?.msg).toMatch(/exists/i);
    expect(await qdiscs(netns)).toEqual([]);
  });

  it("undoes only its own work when ADD fails on a qdisc that was there before", async () => {
    const netns = await setup({ checkpoint: false });
    await netns.execHost(['tc', 'qdisc', 'add', 'dev', 'veth-h', 'ingress']);
    await netns.checkpoint();
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns) });
    expect(added.error?.msg).toMatch(/exists/i);
    expect(await qdiscs(netns)).toEqual([{ kind: 'ingress', handle: 'ffff:', dev: 'veth-h', root: undefined, options: {} }]);
    expect(await ifbs(netns)).toEqual([]);
  });

  it('fails on an interface that is not a veth peer listed in the result', async () => {
    const netns = await setup();
    const c = conf('1.0.0', netns);
    const noHost = await exec(netns, { command: 'ADD', conf: { ...c, prevResult: { ...c.prevResult, interfaces: [{ name: 'eth0', sandbox: netns.container.path }] } } });
    expect(noHost.error?.msg).toBe('no veth peer of container interface found in host ns');
    const missing = await exec(netns, { command: 'ADD', ifName: 'eth9', conf: c });
    expect(missing.error?.msg).toContain('container interface "eth9" has no veth peer');
    const alone = await exec(netns, { command: 'ADD', conf: { ...c, prevResult: undefined } });
    expect(alone.error?.msg).toBe('must be called as chained plugin');
  });

  it('GC deletes the ifbs of this network attachments no longer valid, and only those', async () => {
    const netns = await setup({ checkpoint: false });
    await addVethPair({ ns: netns.host, name: 'veth-h2' }, { ns: netns.container, name: 'eth1' });
    const c = conf('1.1.0', netns);
    const second = { ...c, prevResult: { ...c.prevResult, interfaces: [{ name: 'veth-h2' }, { name: 'eth1', sandbox: netns.container.path }] } };
    expect((await exec(netns, { command: 'ADD', containerId: 'live', conf: c })).error).toBeUndefined();
    expect((await exec(netns, { command: 'ADD', containerId: 'dead', ifName: 'eth1', conf: second })).error).toBeUndefined();
    const { prevResult: _, ...gcConf } = c;
    expect((await exec(netns, { command: 'GC', conf: { ...gcConf, name: 'other-net', 'cni.dev/valid-attachments': [] } })).exitCode).toBe(0);
    expect((await ifbs(netns)).sort()).toEqual([ifbName('bw-test', 'dead'), ifbName('bw-test', 'live')].sort());
    expect((await exec(netns, { command: 'GC', conf: { ...gcConf, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] } })).exitCode).toBe(0);
    expect(await ifbs(netns)).toEqual([ifbName('bw-test', 'live')]);
    expect((await exec(netns, { command: 'CHECK', containerId: 'live', conf: c })).error).toBeUndefined();
  });

  it('runs in a chain after Debian ptp + host-local, and the chain leaves nothing behind', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const bin = join(netns.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(DEBIAN, 'ptp'), join(bin, 'ptp'));
    symlinkSync(join(DEBIAN, 'host-local'), join(bin, 'host-local'));
    symlinkSync(BUILT, join(bin, 'bandwidth'));
    const chain = createChain(
      {
        cniVersion: '1.0.0',
        name: 'bw-chain',
        plugins: [
          { type: 'ptp', ipam: { type: 'host-local', subnet: '10.78.0.0/24', dataDir: join(netns.dir, 'ipam') } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
        ],
      },
      { runner: execRunner(bin), cniPath: bin, netns: netns.container, hostNetns: netns.host, capabilityArgs: { bandwidth: LIMITS } },
    );
    const result = (await chain.add()) as { interfaces: { name: string }[] };
    expect(result.interfaces.at(-1)?.name).toBe(ifbName('bw-chain', 'cnitest'));
    expect((await qdiscs(netns)).map((qdisc) => qdisc.kind)).toEqual(['tbf', 'ingress', 'tbf']);
    await chain.check();
    await chain.del();
    expect(await ifbs(netns)).toEqual([]);
  });

  it('runs in a chain as a runtime runs it: bridge + host-local (Debian), tuning and bandwidth (ours); clean after DEL', async () => {
    const netns = await useTestNetns();
    await netns.checkpoint();
    const bin = join(netns.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(DEBIAN, 'bridge'), join(bin, 'bridge'));
    symlinkSync(join(DEBIAN, 'host-local'), join(bin, 'host-local'));
    symlinkSync(BUILT, join(bin, 'bandwidth'));
    symlinkSync(fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/tuning', import.meta.url)), join(bin, 'tuning'));
    const chain = createChain(
      {
        cniVersion: '1.0.0',
        name: 'full-chain',
        plugins: [
          { type: 'bridge', bridge: 'cnitest0', isGateway: true, ipam: { type: 'host-local', subnet: '10.79.0.0/24', dataDir: join(netns.dir, 'ipam') } },
          { type: 'tuning', dataDir: join(netns.dir, 'tuning'), mtu: 1400, sysctl: { 'net.ipv4.conf.IFNAME.arp_ignore': '1' } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
        ],
      },
      { runner: execRunner(bin), cniPath: bin, netns: netns.container, hostNetns: netns.host, capabilityArgs: { bandwidth: LIMITS } },
    );
    const result = (await chain.add()) as { interfaces: { name: string; sandbox?: string }[] };
    const hostVeth = result.interfaces.find((iface) => iface.name.startsWith('veth'))!.name;
    expect((await readQdiscs(netns.host, hostVeth)).map((qdisc) => qdisc.kind)).toEqual(expect.arrayContaining(['tbf', 'ingress']));
    expect(await ifbs(netns)).toEqual([ifbName('full-chain', 'cnitest')]);
    await chain.check();
    expect((await netns.execContainer(['ping', '-c1', '-W2', '10.79.0.1'])).exitCode).toBe(0);
    await chain.del();
    expect(await ifbs(netns)).toEqual([]);
    // The bridge itself stays after DEL, as upstream's bridge plugin leaves it: the test removes it.
    await netns.execHost(['ip', 'link', 'del', 'cnitest0']);
  });

  // Debian's v1.1.1 bandwidth computes the same token buckets: the qdiscs must be identical. Its
  // filter also carries `flowid 1:1` and a second, never reached mirred action (a side effect of
  // vishvananda/netlink's RedirIndex); ours has the one redirect (docs/plugins/meta/bandwidth.md).
  describe.each(['0.3.1', '0.4.0', '1.0.0'])("[%s] against Debian's bandwidth", (version) => {
    it('makes the same qdiscs, redirect, ifb and result', async () => {
      const ours = await setup();
      const theirs = await setup();
      const a = await exec(ours, { command: 'ADD', conf: conf(version, ours) });
      const b = await execPlugin(join(DEBIAN, 'bandwidth'), { command: 'ADD', netns: theirs.container, hostNetns: theirs.host, cniPath: '/x', conf: conf(version, theirs) });
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      expect(await qdiscs(ours)).toEqual(await qdiscs(theirs));
      expect(await redirects(ours)).toEqual(await redirects(theirs));
      const strip = (result: unknown, netns: TestNetns) => {
        const { dns: _, interfaces, ...rest } = JSON.parse(JSON.stringify(result).replaceAll(netns.container.path, 'NETNS')) as { dns?: unknown; interfaces: { name: string; mac?: string }[] };
        return { ...rest, interfaces: interfaces.map(({ name, mac }) => ({ name, mac: mac === undefined ? undefined : 'MAC' })) };
      };
      expect(strip(a.result, ours)).toEqual(strip(b.result, theirs));
      if (specVersionHas('check', version)) {
        // Each CHECKs the other's work.
        const theirsCheck = await execPlugin(join(DEBIAN, 'bandwidth'), { command: 'CHECK', netns: ours.container, hostNetns: ours.host, cniPath: '/x', conf: conf(version, ours, { ...LIMITS, prevResult: a.result }) });
        expect(theirsCheck.error).toBeUndefined();
        const oursCheck = await exec(theirs, { command: 'CHECK', conf: conf(version, theirs, { ...LIMITS, prevResult: b.result }) });
        expect(oursCheck.error).toBeUndefined();
      }
      expect((await exec(ours, { command: 'DEL', conf: conf(version, ours) })).exitCode).toBe(0);
      const d = await execPlugin(join(DEBIAN, 'bandwidth'), { command: 'DEL', netns: theirs.container, hostNetns: theirs.host, cniPath: '/x', conf: conf(version, theirs) });
      expect(d.exitCode).toBe(0);
      expect(await ifbs(ours)).toEqual(await ifbs(theirs));
      // Deliberate difference: v1.1.1 leaves its qdiscs on a veth the interface plugin keeps; ours removes them.
      expect(await qdiscs(ours)).toEqual([]);
      await theirs.execHost(['tc', 'qdisc', 'del', 'dev', 'veth-h', 'root']);
      await theirs.execHost(['tc', 'qdisc', 'del', 'dev', 'veth-h', 'ingress']);
    });
  });
});
