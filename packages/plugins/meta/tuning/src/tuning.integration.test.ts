// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import {
  addVethPair,
  createChain,
  execPlugin,
  execRunner,
  readLink,
  readSysctl,
  runInProcess,
  useTestNetns,
  type PluginRunOptions,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { tuning } from './index.ts';

const BUILT = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/tuning', import.meta.url));
const DEBIAN = '/usr/lib/cni';
const root = process.getuid?.() === 0;
/** Results before 1.0.0 print an empty `dns` object. */
const legacyVersion = (version: string) => version.startsWith('0.');

/** A container with eth0 (its peer in the test's host namespace), as an interface plugin leaves it. */
async function setup(): Promise<TestNetns> {
  const netns = await useTestNetns();
  await addVethPair({ ns: netns.container, name: 'eth0' }, { ns: netns.host, name: 'veth-t' });
  return netns;
}

function prevResult(version: string, netns: TestNetns): Record<string, unknown> {
  if (version === '0.1.0' || version === '0.2.0') return { cniVersion: version, ip4: { ip: '10.9.0.2/24' } };
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces: [{ name: 'veth-t' }, { name: 'eth0', sandbox: netns.container.path }],
    ips: [{ ...(legacy ? { version: '4' } : {}), interface: 1, address: '10.9.0.2/24' }],
  };
}

const conf = (version: string, netns: TestNetns, extra: Record<string, unknown> = {}) => ({
  cniVersion: version,
  name: 'tuning-test',
  type: 'tuning',
  dataDir: join(netns.dir, 'tuning'),
  prevResult: prevResult(version, netns),
  ...extra,
});

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'netns' | 'hostNetns'>) =>
  execPlugin(BUILT, { cniPath: '/nonexistent', netns: netns.container, hostNetns: netns.host, ...options });

/** The container interface as `ip -j` sees it, reduced to what tuning sets. */
async function linkState(netns: TestNetns) {
  const link = (await readLink(netns.container, 'eth0'))!;
  const flags = link.flags ?? [];
  return { mac: link.address, mtu: link.mtu, promisc: flags.includes('PROMISC'), allmulti: flags.includes('ALLMULTI'), txqlen: link.txqlen };
}

const EVERYTHING = {
  sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2', 'net.ipv6.conf.eth0.accept_ra': '0', 'net/ipv4/conf/IFNAME/arp_ignore': '1' },
  mac: 'C2:11:22:33:44:55',
  promisc: true,
  mtu: 1400,
  allmulti: true,
  txQLen: 42,
};

describe.skipIf(!root)('tuning on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] tuning', (version) => {
    it('sets every key on ADD, passes CHECK, restores everything on DEL (built executable)', async () => {
      const netns = await setup();
      const before = await linkState(netns);
      const sysctls = async () => ({
        rp: await readSysctl(netns.container, 'net.ipv4.conf.eth0.rp_filter'),
        ra: await readSysctl(netns.container, 'net.ipv6.conf.eth0.accept_ra'),
        arp: await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_ignore'),
      });
      const sysctlsBefore = await sysctls();
      expect(sysctlsBefore).toEqual({ rp: '0', ra: '1', arp: '0' });

      const added = await exec(netns, { command: 'ADD', conf: conf(version, netns, EVERYTHING) });
      expect(added.error).toBeUndefined();
      expect(await linkState(netns)).toEqual({ mac: 'c2:11:22:33:44:55', mtu: 1400, promisc: true, allmulti: true, txqlen: 42 });
      expect(await sysctls()).toEqual({ rp: '2', ra: '0', arp: '1' });
      if (version === '0.1.0' || version === '0.2.0') {
        expect(added.result).toEqual({ ...prevResult(version, netns), dns: {} });
      } else {
        const expected = prevResult(version, netns) as { interfaces: Record<string, unknown>[] };
        expected.interfaces[1] = { ...expected.interfaces[1], mac: 'c2:11:22:33:44:55' };
        expect(added.result).toEqual(legacyVersion(version) ? { ...expected, dns: {} } : expected);
      }
      expect(readdirSync(join(netns.dir, 'tuning'))).toEqual(['cnitest_eth0.json']);

      if (specVersionHas('check', version)) {
        const checkConf = conf(version, netns, { ...EVERYTHING, prevResult: added.result });
        expect((await exec(netns, { command: 'CHECK', conf: checkConf })).exitCode).toBe(0);
        // Each attribute and sysctl is compared: change one at a time and CHECK must see it.
        const drifts: [string[], RegExp][] = [
          [['ip', 'link', 'set', 'eth0', 'mtu', '1450'], /MTU of "eth0" is 1400, current value is 1450/],
          [['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:09'], /MAC address/],
          [['ip', 'link', 'set', 'eth0', 'promisc', 'off'], /promiscuous mode/],
          [['ip', 'link', 'set', 'eth0', 'allmulticast', 'off'], /all-multicast mode/],
          [['ip', 'link', 'set', 'eth0', 'txqueuelen', '7'], /transmit queue length/],
          [['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=2'], /sysctl "net\/ipv4\/conf\/IFNAME\/arp_ignore" of "eth0" is 1, current value is 2/],
        ];
        for (const [argv, message] of drifts) {
          await netns.execContainer(argv);
          const checked = await exec(netns, { command: 'CHECK', conf: checkConf });
          expect(checked.error?.msg, argv.join(' ')).toMatch(message);
          // DEL puts the originals back; ADD sets everything again for the next drift.
          await exec(netns, { command: 'DEL', conf: checkConf });
          expect((await exec(netns, { command: 'ADD', conf: conf(version, netns, EVERYTHING) })).error).toBeUndefined();
        }
      }

      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns, EVERYTHING) })).exitCode).toBe(0);
      expect(await linkState(netns)).toEqual(before);
      expect(await sysctls()).toEqual(sysctlsBefore);
      expect(readdirSync(join(netns.dir, 'tuning'))).toEqual([]);
      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns, EVERYTHING) })).exitCode).toBe(0);
    });
  });

  it('takes args.cni over the top-level keys, in process too', async () => {
    const netns = await setup();
    const base = conf('1.0.0', netns, { mtu: 1400, sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '1' }, args: { cni: { mtu: 1300, sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' }, promisc: true } } });
    const added = await runInProcess((io) => runPlugin(tuning, io), { command: 'ADD', netns: netns.container, cniPath: '/nonexistent', conf: base });
    expect(added.error).toBeUndefined();
    expect((await linkState(netns)).mtu).toBe(1300);
    expect((await linkState(netns)).promisc).toBe(true);
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('2');
    expect((await exec(netns, { command: 'CHECK', conf: base })).exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', conf: base })).exitCode).toBe(0);
    expect((await linkState(netns)).mtu).toBe(1500);
  });

  it('takes the MAC from CNI_ARGS and runtimeConfig', async () => {
    const netns = await setup();
    const fromArgs = await exec(netns, { command: 'ADD', args: 'IgnoreUnknown=1;MAC=02:00:00:00:00:0a;K8S_POD_NAME=x', conf: conf('1.0.0', netns) });
    expect(fromArgs.error).toBeUndefined();
    expect((await linkState(netns)).mac).toBe('02:00:00:00:00:0a');
    const runtime = conf('1.0.0', netns, { runtimeConfig: { mac: '02:00:00:00:00:0b' } });
    expect((await exec(netns, { command: 'ADD', args: 'MAC=02:00:00:00:00:0a', conf: runtime })).error).toBeUndefined();
    expect((await linkState(netns)).mac).toBe('02:00:00:00:00:0b');
  });

  it('leaves nothing changed when ADD fails halfway', async () => {
    const netns = await setup();
    const before = await linkState(netns);
    const bad = conf('1.0.0', netns, {
      sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2', 'net.ipv4.conf.IFNAME.no_such_sysctl': '1' },
      mtu: 1400,
      mac: '02:00:00:00:00:0c',
    });
    const added = await exec(netns, { command: 'ADD', conf: bad });
    expect(added.error?.msg).toContain('no such sysctl');
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('0');
    expect(await linkState(netns)).toEqual(before);
    expect(existsSync(join(netns.dir, 'tuning')) ? readdirSync(join(netns.dir, 'tuning')) : []).toEqual([]);
  });

  it.each([
    [{ sysctl: { 'kernel.hostname': 'pwned' } }, 'invalid net sysctl key "kernel.hostname"'],
    [{ sysctl: { 'net.ipv4.conf.IFNAME.rp_filter/../../../../../kernel/hostname': 'pwned' } }, 'is not allowed'],
    [{ sysctl: { 'net/../kernel/hostname': 'pwned' } }, 'component ".." is not allowed'],
    [{ mtu: 'big' }, 'invalid mtu "big"'],
    [{ mac: 'nope' }, 'invalid mac "nope"'],
  ])('refuses %j with a CNI error naming key and value, and changes nothing', async (extra, message) => {
    const netns = await setup();
    await netns.checkpoint();
    const hostname = await netns.execContainer(['cat', '/proc/sys/kernel/hostname']);
    const added = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns, extra) });
    expect(added.error?.code).toBe(7);
    expect(added.error?.msg).toContain(message);
    expect((await netns.execContainer(['cat', '/proc/sys/kernel/hostname'])).stdout).toBe(hostname.stdout);
    expect(existsSync(join(netns.dir, 'tuning'))).toBe(false);
  });

  it('refuses duplicated sysctl keys', async () => {
    const netns = await setup();
    const text = JSON.stringify(conf('1.0.0', netns)).replace(/}$/, ',"sysctl":{"net.ipv4.conf.IFNAME.rp_filter":"1","net.ipv4.conf.IFNAME.rp_filter":"2"}}');
    const added = await exec(netns, { command: 'ADD', stdin: text });
    expect(added.error).toEqual({ code: 7, msg: 'duplicated sysctl keys are not allowed: "net.ipv4.conf.IFNAME.rp_filter"' });
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('0');
  });

  it('applies the allowlist named by CNI_TUNING_ALLOWLIST', async () => {
    const netns = await setup();
    const allowlist = join(netns.dir, 'allowlist.conf');
    writeFileSync(allowlist, '^net\\.ipv4\\.conf\\.IFNAME\\.rp_filter$\n');
    const extraEnv = { CNI_TUNING_ALLOWLIST: allowlist };
    const refused = await exec(netns, { command: 'ADD', extraEnv, conf: conf('1.0.0', netns, { sysctl: { 'net.ipv4.conf.IFNAME.arp_ignore': '1' } }) });
    expect(refused.error?.code).toBe(7);
    expect(refused.error?.msg).toContain('sysctl "net.ipv4.conf.IFNAME.arp_ignore" is not allowed by');
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_ignore')).toBe('0');
    const allowed = await exec(netns, { command: 'ADD', extraEnv, conf: conf('1.0.0', netns, { sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '1' } }) });
    expect(allowed.error).toBeUndefined();
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('1');
  });

  it('fails ADD without a previous result', async () => {
    const netns = await setup();
    const { prevResult: _, ...alone } = conf('1.0.0', netns, { mtu: 1400 });
    const added = await exec(netns, { command: 'ADD', conf: alone });
    expect(added.error?.msg).toContain('required prevResult missing');
    expect((await linkState(netns)).mtu).toBe(1500);
  });

  it('succeeds DEL when the namespace or the link is gone, and removes the backup', async () => {
    const netns = await setup();
    const c = conf('1.0.0', netns, { mtu: 1400 });
    expect((await exec(netns, { command: 'ADD', conf: c })).error).toBeUndefined();
    await netns.execContainer(['ip', 'link', 'del', 'eth0']);
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
    expect(readdirSync(join(netns.dir, 'tuning'))).toEqual([]);
    const gone = await execPlugin(BUILT, { command: 'DEL', netns: '/var/run/netns/cnitest-gone', hostNetns: netns.host, cniPath: '/x', conf: c });
    expect(gone.exitCode).toBe(0);
  });

  it('GC removes the backups of this network attachments no longer valid, and only those', async () => {
    const netns = await setup();
    await addVethPair({ ns: netns.container, name: 'eth1' }, { ns: netns.host, name: 'veth-u' });
    const c = conf('1.1.0', netns, { mtu: 1400 });
    expect((await exec(netns, { command: 'ADD', containerId: 'live', conf: c })).error).toBeUndefined();
    expect((await exec(netns, { command: 'ADD', containerId: 'dead', ifName: 'eth1', conf: c })).error).toBeUndefined();
    const other = { ...c, name: 'other-net' };
    expect((await exec(netns, { command: 'ADD', containerId: 'elsewhere', ifName: 'eth1', conf: other })).error).toBeUndefined();
    writeFileSync(join(netns.dir, 'tuning', 'upstream_eth9.json'), '{"mtu":1500}');
    const { prevResult: _, ...gcConf } = c;
    const gc = await exec(netns, { command: 'GC', conf: { ...gcConf, 'cni.dev/valid-attachments': [{ containerID: 'live', ifname: 'eth0' }] } });
    expect(gc.exitCode).toBe(0);
    expect(readdirSync(join(netns.dir, 'tuning')).sort()).toEqual(['elsewhere_eth1.json', 'live_eth0.json', 'upstream_eth9.json']);
    // The live attachment is untouched: DEL still restores it.
    expect((await exec(netns, { command: 'DEL', containerId: 'live', conf: c })).exitCode).toBe(0);
    expect((await linkState(netns)).mtu).toBe(1500);
  });

  it('runs in a chain after an interface plugin (Debian ptp + host-local), ADD, CHECK, DEL, clean', async () => {
    const netns = await setup();
    await netns.execContainer(['ip', 'link', 'del', 'eth0']);
    const bin = join(netns.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(DEBIAN, 'ptp'), join(bin, 'ptp'));
    symlinkSync(join(DEBIAN, 'host-local'), join(bin, 'host-local'));
    symlinkSync(BUILT, join(bin, 'tuning'));
    await netns.checkpoint();
    const chain = createChain(
      {
        cniVersion: '1.0.0',
        name: 'tuning-chain',
        plugins: [
          { type: 'ptp', ipam: { type: 'host-local', subnet: '10.77.0.0/24', dataDir: join(netns.dir, 'ipam') } },
          { type: 'tuning', dataDir: join(netns.dir, 'tuning'), mtu: 1280, sysctl: { 'net.ipv4.conf.IFNAME.arp_ignore': '1' }, capabilities: { mac: true } },
        ],
      },
      { runner: execRunner(bin), cniPath: bin, netns: netns.container, hostNetns: netns.host, capabilityArgs: { mac: '02:00:00:00:00:42' } },
    );
    const result = (await chain.add()) as { interfaces: { name: string; mac?: string }[] };
    expect(result.interfaces.find((iface) => iface.name === 'eth0')?.mac).toBe('02:00:00:00:00:42');
    expect((await readLink(netns.container, 'eth0'))?.mtu).toBe(1280);
    expect(await readSysctl(netns.container, 'net.ipv4.conf.eth0.arp_ignore')).toBe('1');
    await chain.check();
    const ping = await netns.execContainer(['ping', '-c1', '-W2', '10.77.0.1']);
    expect(ping.exitCode).toBe(0);
    await chain.del();
    expect(readdirSync(join(netns.dir, 'tuning'))).toEqual([]);
  });

  // Debian's v1.1.1 tuning is the reference for sysctl, mac, mtu, promisc and allmulti (not txQLen,
  // the allowlist or sysctl restore, which came later or are ours): the same interface afterwards,
  // the same result, and the same link attributes after DEL.
  describe.each(['0.3.1', '0.4.0', '1.0.0'])("[%s] against Debian's tuning", (version) => {
    it('leaves the same interface and result', async () => {
      const ours = await setup();
      const theirs = await setup();
      const oursBefore = await linkState(ours);
      const theirsBefore = await linkState(theirs);
      // v1.1.1's CHECK does not replace IFNAME (it opens .../conf/IFNAME/...): name eth0 here.
      const keys = { sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' }, mac: 'c2:11:22:33:44:55', promisc: true, mtu: 1400, allmulti: true };
      const a = await exec(ours, { command: 'ADD', conf: conf(version, ours, keys) });
      const b = await execPlugin(join(DEBIAN, 'tuning'), { command: 'ADD', netns: theirs.container, hostNetns: theirs.host, cniPath: '/x', conf: conf(version, theirs, keys) });
      expect(b.error).toBeUndefined();
      expect(a.error).toBeUndefined();
      const normalise = (result: unknown, netns: TestNetns) => {
        const { dns: _, ...rest } = JSON.parse(JSON.stringify(result).replaceAll(netns.container.path, 'NETNS')) as Record<string, unknown>;
        return rest;
      };
      expect(normalise(a.result, ours)).toEqual(normalise(b.result, theirs));
      expect(await linkState(ours)).toEqual(await linkState(theirs));
      expect(await readSysctl(ours.container, 'net.ipv4.conf.eth0.rp_filter')).toBe(await readSysctl(theirs.container, 'net.ipv4.conf.eth0.rp_filter'));
      if (specVersionHas('check', version)) {
        const c = await execPlugin(join(DEBIAN, 'tuning'), { command: 'CHECK', netns: ours.container, hostNetns: ours.host, cniPath: '/x', conf: conf(version, ours, keys) });
        expect(c.error).toBeUndefined();
      }
      expect((await exec(ours, { command: 'DEL', conf: conf(version, ours, keys) })).exitCode).toBe(0);
      const d = await execPlugin(join(DEBIAN, 'tuning'), { command: 'DEL', netns: theirs.container, hostNetns: theirs.host, cniPath: '/x', conf: conf(version, theirs, keys) });
      expect(d.exitCode).toBe(0);
      // Each veth had its own random MAC: both must be back to it.
      expect(await linkState(ours)).toEqual(oursBefore);
      expect(await linkState(theirs)).toEqual(theirsBefore);
      // Deliberate difference (docs/plugins/meta/tuning.md): ours puts the sysctl back, v1.1.1 does not.
      expect(await readSysctl(ours.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('0');
      expect(await readSysctl(theirs.container, 'net.ipv4.conf.eth0.rp_filter')).toBe('2');
    });
  });
});
