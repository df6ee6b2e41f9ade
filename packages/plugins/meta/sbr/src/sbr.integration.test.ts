// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import { addVethPair, addRoute, execPlugin, ipJson, readRoutes, readRules, useTestNetns, waitForIpv6Dad, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';

const BUILT = fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/sbr', import.meta.url));
const DEBIAN = '/usr/lib/cni/sbr';
const root = process.getuid?.() === 0;

/**
 * The container as an interface plugin leaves it: eth0 (10.60.0.2/24, fd00:60::2/64) whose peer r0
 * (10.60.0.1, fd00:60::1) is in the test's host namespace, and eth1 (10.61.0.2/24) to r1 (10.61.0.1),
 * the container's default route: the "primary" network. The host also owns 10.70.0.1 and fd00:70::1
 * on lo, a client outside both subnets.
 */
async function setup(options: { checkpoint?: boolean } = {}): Promise<TestNetns> {
  // Without a checkpoint by default: sbr's DEL, as upstream's, removes its rules but leaves the moved
  // routes in their tables, which go with the link when the interface plugin deletes it. Tests that
  // change nothing else (fixed table, refused input, failed ADD) check the whole namespace.
  const netns = await useTestNetns();
  await addVethPair({ ns: netns.host, name: 'r0' }, { ns: netns.container, name: 'eth0' }, { addresses: ['10.60.0.1/24', 'fd00:60::1/64'], peerAddresses: ['10.60.0.2/24', 'fd00:60::2/64'] });
  await addVethPair({ ns: netns.host, name: 'r1' }, { ns: netns.container, name: 'eth1' }, { addresses: ['10.61.0.1/24', 'fd00:61::1/64'], peerAddresses: ['10.61.0.2/24', 'fd00:61::2/64'] });
  await addRoute(netns.container, 'default', { via: '10.61.0.1', dev: 'eth1' });
  await addRoute(netns.container, 'default', { via: 'fd00:61::1', dev: 'eth1' });
  await netns.execHost(['ip', 'addr', 'add', '10.70.0.1/32', 'dev', 'lo']);
  await netns.execHost(['ip', 'addr', 'add', 'fd00:70::1/128', 'dev', 'lo']);
  // The host answers the container on whichever link: only the container's choice is under test.
  for (const key of ['all', 'default', 'r0', 'r1']) await netns.execHost(['sysctl', '-qw', `net.ipv4.conf.${key}.rp_filter=0`]);
  // IPv6 addresses are tentative until DAD is done, and a tentative address answers nothing: a
  // ping in the first second or two loses replies (the test's occasional failure on a loaded machine).
  for (const ns of [netns.host, netns.container]) await waitForIpv6Dad(ns);
  if (options.checkpoint ?? false) await netns.checkpoint();
  return netns;
}

function prevResult(version: string, netns: TestNetns, ips = [{ address: '10.60.0.2/24', gateway: '10.60.0.1' }, { address: 'fd00:60::2/64', gateway: 'fd00:60::1' }]) {
  if (version === '0.1.0' || version === '0.2.0') return { cniVersion: version, ip4: { ip: ips[0]!.address, gateway: ips[0]!.gateway }, ...(ips[1] ? { ip6: { ip: ips[1].address, gateway: ips[1].gateway } } : {}) };
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces: [{ name: 'r0' }, { name: 'eth0', sandbox: netns.container.path }],
    ips: ips.map((ip) => ({ ...(legacy ? { version: ip.address.includes(':') ? '6' : '4' } : {}), interface: 1, ...ip })),
  };
}

const conf = (version: string, netns: TestNetns, extra: Record<string, unknown> = {}) => ({ cniVersion: version, name: 'sbr-test', type: 'sbr', prevResult: prevResult(version, netns), ...extra });

const exec = (netns: TestNetns, options: Omit<PluginRunOptions, 'netns' | 'hostNetns'>, binary = BUILT) =>
  execPlugin(binary, { cniPath: '/nonexistent', netns: netns.container, hostNetns: netns.host, ...options });

/** The container's rules that look up a table other than the kernel's own, as `from -> table`. */
async function sbrRules(netns: TestNetns): Promise<string[]> {
  const rules = [...(await readRules(netns.container, 4)), ...(await readRules(netns.container, 6))];
  // ip prints a host prefix as the bare address.
  return rules
    .filter((rule) => !['local', 'main', 'default'].includes(String(rule.table)))
    .map((rule) => `${rule.src}${rule.srclen !== undefined ? `/${rule.srclen}` : ''} -> ${rule.table}`)
    .sort();
}

/** Routes of one table of the container, without kernel-generated noise that differs between runs. */
async function routes(netns: TestNetns, table: string | number, family: 4 | 6 = 4): Promise<string[]> {
  // A table without routes does not exist for ip: empty.
  const list = await readRoutes(netns.container, { family, table }).catch(() => []);
  return list.map((route) => [route.dst, route.gateway && `via ${route.gateway}`, route.dev && `dev ${route.dev}`, route.prefsrc && `src ${route.prefsrc}`].filter(Boolean).join(' ')).sort();
}

/** How many packets each container interface has sent. */
async function txPackets(netns: TestNetns): Promise<Record<string, number>> {
  const links = await ipJson<{ ifname: string; stats64?: { tx: { packets: number } } }[]>(netns.container, ['-s', 'link', 'show']);
  return Object.fromEntries(links.map((link) => [link.ifname, link.stats64?.tx.packets ?? 0]));
}

/** Pings the container's eth0 address from the host's client address; returns how many replies left by eth0 and by eth1. */
async function replyPaths(netns: TestNetns, family: 4 | 6): Promise<{ ok: boolean; eth0: number; eth1: number }> {
  const before = await txPackets(netns);
  const [from, to] = family === 4 ? ['10.70.0.1', '10.60.0.2'] : ['fd00:70::1', 'fd00:60::2'];
  const ping = await netns.execHost(['ping', `-${family}`, '-c', '10', '-i', '0.1', '-W', '1', '-I', from, to], { allowFailure: true });
  const after = await txPackets(netns);
  return { ok: ping.exitCode === 0, eth0: after['eth0']! - before['eth0']!, eth1: after['eth1']! - before['eth1']! };
}

describe.skipIf(!root)('sbr on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] sbr', (version) => {
    it('adds a rule and a table per address, moves the routes, passes CHECK, and DEL removes its rules (built executable)', async () => {
      const netns = await setup();
      // Host routes to the client, which the container's own subnets do not cover.
      await netns.execContainer(['ip', 'route', 'add', '10.80.0.0/16', 'via', '10.60.0.1', 'dev', 'eth0']);
      const added = await exec(netns, { command: 'ADD', conf: conf(version, netns) });
      expect(added.error).toBeUndefined();
      expect(added.result).toEqual({ ...prevResult(version, netns), ...(version.startsWith('0.') ? { dns: {} } : {}) });
      expect(await sbrRules(netns)).toEqual(['10.60.0.2 -> 100', 'fd00:60::2 -> 101']);
      expect(await routes(netns, 100)).toEqual(['10.60.0.0/24 dev eth0 src 10.60.0.2', '10.80.0.0/16 via 10.60.0.1 dev eth0', 'default via 10.60.0.1 dev eth0']);
      expect(await routes(netns, 101, 6)).toEqual(expect.arrayContaining(['default via fd00:60::1 dev eth0', 'fd00:60::/64 dev eth0']));
      // Nothing of eth0 is left in main, in either family; eth1's routes are untouched.
      expect(await routes(netns, 'main')).toEqual(['10.61.0.0/24 dev eth1 src 10.61.0.2', 'default via 10.61.0.1 dev eth1']);
      expect((await routes(netns, 'main', 6)).filter((route) => route.includes('eth0'))).toEqual([]);

      if (specVersionHas('check', version)) {
        expect((await exec(netns, { command: 'CHECK', conf: conf(version, netns) })).error).toBeUndefined();
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns) })).exitCode).toBe(0);
      expect(await sbrRules(netns)).toEqual([]);
      if (specVersionHas('check', version)) {
        expect((await exec(netns, { command: 'CHECK', conf: conf(version, netns) })).error?.msg).toBe('no source-based routing rule for "10.60.0.2/32"');
      }
      expect((await exec(netns, { command: 'DEL', conf: conf(version, netns) })).exitCode).toBe(0);
    });
  });

  it('sends replies out of the interface the requests came in on, both families', async () => {
    const netns = await setup();
    // Without sbr the container answers by its default route, eth1.
    const before4 = await replyPaths(netns, 4);
    const before6 = await replyPaths(netns, 6);
    expect(before4.eth1).toBeGreaterThanOrEqual(10);
    expect(before6.eth1).toBeGreaterThanOrEqual(10);
    expect(before4.eth0).toBeLessThan(5);

    expect((await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns) })).error).toBeUndefined();
    const after4 = await replyPaths(netns, 4);
    const after6 = await replyPaths(netns, 6);
    expect(after4).toMatchObject({ ok: true });
    expect(after6).toMatchObject({ ok: true });
    expect(after4.eth0).toBeGreaterThanOrEqual(10);
    expect(after6.eth0).toBeGreaterThanOrEqual(10);
    expect(after4.eth1).toBeLessThan(5);
    expect(after6.eth1).toBeLessThan(5);

    // Traffic from eth1's address still takes the main table.
    const fromEth1 = await netns.execContainer(['ping', '-c', '1', '-W', '1', '-I', '10.61.0.2', '10.70.0.1']);
    expect(fromEth1.exitCode).toBe(0);
    expect((await exec(netns, { command: 'DEL', conf: conf('1.0.0', netns) })).exitCode).toBe(0);
  });

  it('picks the first free table from 100, skipping tables a rule or a route names, one per address', async () => {
    const netns = await setup();
    await netns.execContainer(['ip', 'rule', 'add', 'from', '192.0.2.9', 'lookup', '100']);
    await netns.execContainer(['ip', 'route', 'add', 'blackhole', '198.51.100.0/24', 'table', '101']);
    await netns.execContainer(['ip', 'addr', 'add', '10.60.0.3/24', 'dev', 'eth0']);
    const c = conf('1.0.0', netns, {
      prevResult: prevResult('1.0.0', netns, [{ address: '10.60.0.2/24', gateway: '10.60.0.1' }, { address: '10.60.0.3/24', gateway: '10.60.0.1' }, { address: 'fd00:60::2/64', gateway: 'fd00:60::1' }]),
    });
    expect((await exec(netns, { command: 'ADD', conf: c })).error).toBeUndefined();
    expect(await sbrRules(netns)).toEqual(['10.60.0.2 -> 102', '10.60.0.3 -> 103', '192.0.2.9 -> 100', 'fd00:60::2 -> 104']);
    expect(await routes(netns, 103)).toEqual(expect.arrayContaining(['default via 10.60.0.1 dev eth0']));
    expect((await exec(netns, { command: 'CHECK', conf: c })).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
    expect(await sbrRules(netns)).toEqual(['192.0.2.9 -> 100']);
    await netns.execContainer(['ip', 'rule', 'del', 'from', '192.0.2.9', 'lookup', '100']);
  });

  it('with a fixed table adds only the rules, and DEL removes exactly those', async () => {
    const netns = await setup({ checkpoint: true });
    // Rules sbr did not make, for the same source: another table, a destination, a table below 100.
    await netns.execContainer(['ip', 'rule', 'add', 'from', '10.60.0.2', 'to', '192.0.2.0/24', 'lookup', '500']);
    await netns.execContainer(['ip', 'rule', 'add', 'from', '10.60.0.2', 'lookup', '600']);
    const mainBefore = await routes(netns, 'main');
    const c = conf('1.1.0', netns, { table: 500 });
    expect((await exec(netns, { command: 'ADD', conf: c })).error).toBeUndefined();
    expect(await sbrRules(netns)).toEqual(expect.arrayContaining(['10.60.0.2 -> 500', 'fd00:60::2 -> 500']));
    expect(await routes(netns, 'main')).toEqual(mainBefore);
    expect(await routes(netns, 500)).toEqual([]);
    expect((await exec(netns, { command: 'CHECK', conf: c })).error).toBeUndefined();
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
    const left = await sbrRules(netns);
    expect(left).toHaveLength(2);
    expect(left).toEqual(expect.arrayContaining(['10.60.0.2 -> 600', '10.60.0.2 -> 500']));
    await netns.execContainer(['ip', 'rule', 'del', 'from', '10.60.0.2', 'to', '192.0.2.0/24', 'lookup', '500']);
    await netns.execContainer(['ip', 'rule', 'del', 'from', '10.60.0.2', 'lookup', '600']);
  });

  it('uses static gateways, and addSourceHints keeps subnet routes in main with a source hint', async () => {
    const netns = await setup();
    await netns.execHost(['ip', 'addr', 'add', '10.60.0.254/24', 'dev', 'r0']);
    const c = conf('1.1.0', netns, { gateways: ['10.60.0.254'], addSourceHints: true });
    expect((await exec(netns, { command: 'ADD', conf: c })).error).toBeUndefined();
    expect(await routes(netns, 100)).toEqual(expect.arrayContaining(['default via 10.60.0.254 dev eth0']));
    expect(await routes(netns, 'main')).toEqual(expect.arrayContaining(['10.60.0.0/24 dev eth0 src 10.60.0.2']));
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
  });

  it('succeeds DEL when the link or the namespace is gone, and removes the rules by the previous result', async () => {
    const netns = await setup();
    const c = conf('1.0.0', netns, { table: 300 });
    expect((await exec(netns, { command: 'ADD', conf: c })).error).toBeUndefined();
    await netns.execContainer(['ip', 'link', 'del', 'eth0']);
    expect((await exec(netns, { command: 'DEL', conf: c })).exitCode).toBe(0);
    expect(await sbrRules(netns)).toEqual([]);
    const gone = await execPlugin(BUILT, { command: 'DEL', netns: '/var/run/netns/cnitest-gone', hostNetns: netns.host, cniPath: '/x', conf: c });
    expect(gone.exitCode).toBe(0);
  });

  it.each([
    [{ table: 'x' }, 'invalid table "x"'],
    [{ table: 254 }, 'invalid table 254'],
    [{ gateways: ['10.0.0.1', '10.0.0.2'] }, 'at most one IPv4 address'],
    [{ gateways: ['nope'] }, 'invalid gateways[] "nope", must be an IP address'],
    [{ addSourceHints: 'yes' }, 'invalid addSourceHints "yes"'],
  ])('refuses %j with code 7 and changes nothing', async (extra, message) => {
    const netns = await setup({ checkpoint: true });
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', netns, extra) });
    expect(added.error?.code).toBe(7);
    expect(added.error?.msg).toContain(message);
    expect(await sbrRules(netns)).toEqual([]);
  });

  it('leaves nothing when ADD fails halfway (the gateway is unreachable)', async () => {
    const netns = await setup({ checkpoint: true });
    const mainBefore = await routes(netns, 'main');
    const added = await exec(netns, { command: 'ADD', conf: conf('1.1.0', netns, { gateways: ['10.99.0.1'] }) });
    expect(added.error).toBeDefined();
    expect(await sbrRules(netns)).toEqual([]);
    expect(await routes(netns, 'main')).toEqual(mainBefore);
    expect(await routes(netns, 100)).toEqual([]);
  });

  it('fails without a previous result or without addresses', async () => {
    const netns = await setup();
    const { prevResult: _, ...alone } = conf('1.0.0', netns);
    expect((await exec(netns, { command: 'ADD', conf: alone })).error?.msg).toBe('this plugin must be called as chained plugin');
    const none = await exec(netns, { command: 'ADD', conf: conf('1.0.0', netns, { prevResult: { cniVersion: '1.0.0', interfaces: [], ips: [] } }) });
    expect(none.error?.msg).toBe('no IP addresses supplied on interface "eth0"');
  });

  // Debian's v1.1.1 sbr is the reference for the default mode: the same rules and the same tables.
  describe.each(['0.4.0', '1.0.0'])("[%s] against Debian's sbr", (version) => {
    it('makes the same rules and routes, and DEL leaves the same', async () => {
      const ours = await setup();
      const theirs = await setup();
      const a = await exec(ours, { command: 'ADD', conf: conf(version, ours) });
      const b = await exec(theirs, { command: 'ADD', conf: conf(version, theirs) }, DEBIAN);
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      expect(await sbrRules(ours)).toEqual(await sbrRules(theirs));
      for (const [table, family] of [[100, 4], [101, 6], ['main', 4], ['main', 6], [100, 6], [101, 4]] as const) {
        expect(await routes(ours, table, family), `table ${table} IPv${family}`).toEqual(await routes(theirs, table, family));
      }
      expect((await exec(ours, { command: 'DEL', conf: conf(version, ours) })).exitCode).toBe(0);
      expect((await exec(theirs, { command: 'DEL', conf: conf(version, theirs) }, DEBIAN)).exitCode).toBe(0);
      expect(await sbrRules(ours)).toEqual(await sbrRules(theirs));
    });
  });
});
