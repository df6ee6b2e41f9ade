// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import {
  createChain,
  createNetns,
  deleteNetns,
  exec,
  registerTeardown,
  execPlugin,
  execRunner,
  readIptablesSave,
  UPLINK_ADDRESSES,
  useTestNetns,
  waitForIpv6Dad,
  type PluginRunner,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const DEBIAN = '/usr/lib/cni';
const WORLD_V4 = UPLINK_ADDRESSES.ipv4.gateway;
const WORLD_V6 = UPLINK_ADDRESSES.ipv6.gateway;
const HOST_V4 = UPLINK_ADDRESSES.ipv4.host.split('/')[0]!;
const HOST_V6 = UPLINK_ADDRESSES.ipv6.host.split('/')[0]!;
const ID = 'fw-ctr-1';

function conflist(netns: TestNetns, firewall: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.0.0',
    name: 'fwnet',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-fw0',
        isGateway: true,
        ipam: {
          type: 'host-local',
          dataDir: netns.dir,
          ranges: [[{ subnet: '10.67.0.0/24' }], [{ subnet: 'fd67::/64' }]],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
        },
      },
      { type: 'firewall', ...firewall },
    ],
  };
}

/** firewall from `firewallDir` (with `extraEnv`), the rest from Debian's reference. */
function runnerWith(firewallDir: string, extraEnv?: Record<string, string>): PluginRunner {
  const debian = execRunner([DEBIAN]);
  return (type, options) =>
    type === 'firewall'
      ? execPlugin(`${firewallDir}/firewall`, { cniPath: [firewallDir, DEBIAN], ...options, ...(extraEnv ? { extraEnv } : {}) })
      : debian(type, options);
}

/** A host whose FORWARD chains drop by default, as a locked-down node's; the world routes the pod subnets back. */
async function lockedDownHost() {
  const netns = await useTestNetns({ defaultRoute: true });
  for (const ns of [netns.host, netns.container]) {
    await exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  }
  await exec(netns.world!, ['ip', 'route', 'add', '10.67.0.0/24', 'via', HOST_V4]);
  await exec(netns.world!, ['ip', '-6', 'route', 'add', 'fd67::/64', 'via', HOST_V6]);
  for (const tool of ['iptables', 'ip6tables']) await exec(netns.host, [tool, '-P', 'FORWARD', 'DROP']);
  // The uplink's IPv6 addresses were added before accept_dad went off: wait out their DAD, or an
  // IPv6 connection in the first seconds fails now and then (the test's old flake).
  for (const ns of [netns.host, netns.world!]) await waitForIpv6Dad(ns);
  return netns;
}

/** Open a TCP connection from `from` to a listener in `to`; true when it connects within 2 s. */
async function canConnect(from: TestNetns['host'], to: TestNetns['host'], address: string): Promise<boolean> {
  const server = `require('node:net').createServer((s) => s.end('hi')).listen(7070, '::', () => process.stdout.write('ready\\n'))`;
  const child = spawn('ip', ['netns', 'exec', to.name, process.execPath, '-e', server], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    const client = `const s = require('node:net').connect({ host: process.argv[1], port: 7070 }); s.on('data', () => { process.stdout.write('ok'); process.exit(0); }); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), 2000);`;
    const result = await exec(from, [process.execPath, '-e', client, address], { allowFailure: true });
    return result.stdout === 'ok';
  } finally {
    child.kill('SIGKILL');
  }
}

const filterDump = async (netns: TestNetns) =>
  (await Promise.all([4, 6].map((family) => readIptablesSave(netns.host, { family: family as 4 | 6, table: 'filter' }))))
    .join('\n')
    .split('\n')
    .filter((line) => /^[-:]/.test(line))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ''));

describe.skipIf(process.getuid?.() !== 0)('firewall (iptables) on the host kernel', () => {
  it('lets the container reach the world through a FORWARD policy of DROP, both families; DEL closes it again', async () => {
    const netns = await lockedDownHost();
    const chain = createChain(conflist(netns, { backend: 'iptables' }), { runner: runnerWith(BIN), netns: netns.container, hostNetns: netns.host, containerId: ID });
    const result = await chain.add();
    expect(await canConnect(netns.container, netns.world!, WORLD_V4)).toBe(true);
    expect(await canConnect(netns.container, netns.world!, WORLD_V6)).toBe(true);
    // Only replies come in: a new connection from the world is still dropped.
    expect(await canConnect(netns.world!, netns.container, '10.67.0.2')).toBe(false);
    await chain.check();

    const del = await execPlugin(`${BIN}/firewall`, {
      command: 'DEL',
      netns: netns.container,
      hostNetns: netns.host,
      containerId: ID,
      ifName: 'eth0',
      cniPath: BIN,
      conf: { cniVersion: '1.0.0', name: 'fwnet', type: 'firewall', backend: 'iptables', prevResult: result },
    });
    expect(del.exitCode).toBe(0);
    expect(await canConnect(netns.container, netns.world!, WORLD_V4)).toBe(false);
    expect((await filterDump(netns)).filter((line) => line.includes('10.67.0.2') || line.includes('fd67::2'))).toEqual([]);
    await chain.del();
  });

  it('writes the same filter rules as Debian\'s reference (v1.1.1) with iptablesAdminChainName and ingressPolicy same-bridge, and each removes the other\'s', async () => {
    const firewall = { backend: 'iptables', iptablesAdminChainName: 'MY-ADMIN', ingressPolicy: 'same-bridge' };
    const ours = await lockedDownHost();
    const theirs = await lockedDownHost();
    const ourChain = createChain(conflist(ours, firewall), { runner: runnerWith(BIN), netns: ours.container, hostNetns: ours.host, containerId: ID });
    const theirChain = createChain(conflist(theirs, firewall), { runner: runnerWith(DEBIAN), netns: theirs.container, hostNetns: theirs.host, containerId: ID });
    await ourChain.add();
    await theirChain.add();
    // Our owner records are ours alone; v1.7 renamed the shared isolation comment to "same-bridge|isolated"
    // when it added `isolated`, and v1.1.1 still writes "same-bridge".
    const withoutOwners = (lines: string[]) =>
      lines.filter((line) => !line.includes('CNI-FW-OWNERS')).map((line) => line.replace('(ingressPolicy: same-bridge|isolated)', '(ingressPolicy: same-bridge)'));
    expect(withoutOwners(await filterDump(ours)).sort()).toEqual((await filterDump(theirs)).sort());
    expect(await filterDump(ours)).toContain('-A FORWARD -m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)" -j CNI-ISOLATION-STAGE-1');
    await ourChain.check();
    await theirChain.check();
    // Cross DELs: Debian's firewall removes ours, ours removes Debian's.
    const del = (dir: string, netns: TestNetns, prevResult: unknown) =>
      execPlugin(`${dir}/firewall`, {
        command: 'DEL',
        netns: netns.container,
        hostNetns: netns.host,
        containerId: ID,
        ifName: 'eth0',
        cniPath: dir,
        conf: { cniVersion: '1.0.0', name: 'fwnet', type: 'firewall', ...firewall, prevResult },
      });
    expect((await del(DEBIAN, ours, ourChain.cachedResult)).exitCode).toBe(0);
    expect((await del(BIN, theirs, theirChain.cachedResult)).exitCode).toBe(0);
    for (const netns of [ours, theirs]) {
      expect((await filterDump(netns)).filter((line) => /-A CNI-FORWARD -[sd] /.test(line))).toEqual([]);
    }
    await ourChain.del();
    await theirChain.del();
  });

  it('ingressPolicy isolated adds the rule that drops traffic between the bridge\'s own ports', async () => {
    const netns = await lockedDownHost();
    const chain = createChain(conflist(netns, { ingressPolicy: 'isolated' }), { runner: runnerWith(BIN), netns: netns.container, hostNetns: netns.host, containerId: ID });
    await chain.add();
    const dump = await filterDump(netns);
    expect(dump).toContain('-A CNI-ISOLATION-STAGE-1 -i cni-fw0 -o cni-fw0 -m comment --comment "CNI firewall plugin rules (ingressPolicy: isolated)" -j DROP');
    expect(dump).toContain('-A CNI-ISOLATION-STAGE-2 -o cni-fw0 -m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)" -j DROP');
    await chain.check();
    await chain.del();
  });
});

/** One pod on `bridge` (subnet 10.7<n>.0.0/24) with firewall's `ingressPolicy`, in its own namespace. */
async function pod(netns: TestNetns, bridge: string, subnet: string, containerId: string, ingressPolicy: string) {
  const container = await createNetns();
  registerTeardown(() => deleteNetns(container));
  const chain = createChain(
    {
      cniVersion: '1.0.0',
      name: `net-${bridge}`,
      plugins: [
        { type: 'bridge', bridge, isGateway: true, ipam: { type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] } },
        { type: 'firewall', backend: 'iptables', ingressPolicy },
      ],
    },
    { runner: runnerWith(BIN), netns: container, hostNetns: netns.host, containerId },
  );
  const result = (await chain.add()) as { ips: { address: string }[] };
  return { container, chain, address: result.ips[0]!.address.split('/')[0]! };
}

// isolated acts on traffic between ports of one bridge only when br_netfilter hands bridged frames to iptables.
const bridgeNetfilter = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');

describe.skipIf(process.getuid?.() !== 0)('firewall ingressPolicy with traffic', () => {
  it.each([
    ['open', { otherBridge: true, sameBridge: true }],
    ['same-bridge', { otherBridge: false, sameBridge: true }],
    ...(bridgeNetfilter ? [['isolated', { otherBridge: false, sameBridge: false }] as const] : []),
  ] as const)('%s: who reaches a pod on bridge B', async (policy, reaches) => {
    const netns = await useTestNetns();
    const a1 = await pod(netns, 'cni-fa', '10.70.0.0/24', 'pod-a1', policy);
    const b1 = await pod(netns, 'cni-fb', '10.71.0.0/24', 'pod-b1', policy);
    const b2 = await pod(netns, 'cni-fb', '10.71.0.0/24', 'pod-b2', policy);
    if (bridgeNetfilter) await exec(netns.host, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    expect(await canConnect(a1.container, b1.container, b1.address)).toBe(reaches.otherBridge);
    expect(await canConnect(b2.container, b1.container, b1.address)).toBe(reaches.sameBridge);
    // The host itself is not a bridge port: it always reaches the pod.
    expect(await canConnect(netns.host, b1.container, b1.address)).toBe(true);
    for (const { chain } of [b2, b1, a1]) await chain.del();
  });
});

interface Attachment {
  containerId: string;
  address: string;
}

/** The built firewall with a hand-made prevResult (eth0 with `address`). */
async function firewallRun(netns: TestNetns, command: 'ADD' | 'DEL' | 'CHECK' | 'GC', version: string, attachment: Attachment, extra: Record<string, unknown> = {}, extraEnv?: Record<string, string>) {
  const conf: Record<string, unknown> = { cniVersion: version, name: 'fwnet', type: 'firewall', ...extra };
  if (command !== 'GC') {
    conf['prevResult'] = {
      cniVersion: version,
      interfaces: [{ name: 'cni-fw0' }, { name: 'eth0', sandbox: netns.container.path }],
      ips: [{ ...(version.startsWith('0.') ? { version: '4' } : {}), address: attachment.address, interface: 1 }],
    };
  }
  return execPlugin(`${BIN}/firewall`, {
    command,
    netns: netns.container,
    hostNetns: netns.host,
    containerId: attachment.containerId,
    ifName: 'eth0',
    cniPath: BIN,
    conf,
    ...(extraEnv ? { extraEnv } : {}),
  });
}

describe.skipIf(process.getuid?.() !== 0)('firewall verbs (built executable)', () => {
  const a = { containerId: 'ctr-a', address: '10.67.0.2/24' };
  const b = { containerId: 'ctr-b', address: '10.67.0.3/24' };
  const forwardRules = async (netns: TestNetns) => (await filterDump(netns)).filter((line) => /^-A CNI-FORWARD -[sd] /.test(line)).join('\n');

  it.each(['0.4.0', '1.0.0', '1.1.0'])('spec %s: ADD, CHECK, DEL', async (version) => {
    const netns = await useTestNetns();
    const add = await firewallRun(netns, 'ADD', version, a, { backend: 'iptables' });
    expect(add.stderr).toBe('');
    expect(add.exitCode).toBe(0);
    expect(await forwardRules(netns)).toContain('-A CNI-FORWARD -s 10.67.0.2/32 -j ACCEPT');
    expect((await firewallRun(netns, 'CHECK', version, a, { backend: 'iptables' })).exitCode).toBe(0);
    await exec(netns.host, ['iptables', '-D', 'CNI-FORWARD', '-s', '10.67.0.2/32', '-j', 'ACCEPT']);
    expect((await firewallRun(netns, 'CHECK', version, a, { backend: 'iptables' })).exitCode).not.toBe(0);
    expect((await firewallRun(netns, 'DEL', version, a, { backend: 'iptables' })).exitCode).toBe(0);
    expect((await firewallRun(netns, 'DEL', version, a, { backend: 'iptables' })).exitCode).toBe(0);
    expect(await forwardRules(netns)).toBe('');
  });

  it('DEL without prevResult (the runtime\'s DEL after a killed ADD) removes this attachment\'s rules, found through its owner record, and no other\'s', async () => {
    const netns = await useTestNetns();
    for (const attachment of [a, b]) expect((await firewallRun(netns, 'ADD', '1.0.0', attachment, { backend: 'iptables' })).exitCode).toBe(0);
    const del = await execPlugin(`${BIN}/firewall`, {
      command: 'DEL',
      netns: netns.container,
      hostNetns: netns.host,
      containerId: a.containerId,
      ifName: 'eth0',
      cniPath: BIN,
      conf: { cniVersion: '1.0.0', name: 'fwnet', type: 'firewall', backend: 'iptables' },
    });
    expect(del.exitCode).toBe(0);
    const dump = (await filterDump(netns)).join('\n');
    expect(dump).not.toContain('10.67.0.2/32');
    expect(dump).toContain('-A CNI-FORWARD -s 10.67.0.3/32 -j ACCEPT');
    expect(dump).toContain('id=ctr-b');
    expect((await firewallRun(netns, 'DEL', '1.0.0', b, { backend: 'iptables' })).exitCode).toBe(0);
  });

  it('refuses spec versions before 0.4.0, as upstream', async () => {
    const netns = await useTestNetns();
    const add = await firewallRun(netns, 'ADD', '0.3.1', a);
    expect(JSON.parse(add.stdout)).toMatchObject({ code: 1 });
  });

  it('GC removes the rules of this network\'s attachments not in valid-attachments and keeps the live ones', async () => {
    const netns = await useTestNetns();
    for (const attachment of [a, b]) expect((await firewallRun(netns, 'ADD', '1.1.0', attachment, { backend: 'iptables' })).exitCode).toBe(0);
    const gc = await firewallRun(netns, 'GC', '1.1.0', a, { backend: 'iptables', 'cni.dev/valid-attachments': [{ containerID: 'ctr-b', ifname: 'eth0' }] });
    expect(gc.exitCode).toBe(0);
    const rules = await forwardRules(netns);
    expect(rules).not.toContain('10.67.0.2/32');
    expect(rules).toContain('-A CNI-FORWARD -s 10.67.0.3/32 -j ACCEPT');
    expect((await firewallRun(netns, 'CHECK', '1.1.0', b, { backend: 'iptables' })).exitCode).toBe(0);
    expect((await firewallRun(netns, 'DEL', '1.1.0', b, { backend: 'iptables' })).exitCode).toBe(0);
  });

  it.each([
    [{ backend: 'nftables' }, 'invalid backend "nftables"'],
    [{ ingressPolicy: 'closed' }, 'invalid ingressPolicy "closed"'],
    [{ iptablesAdminChainName: 'NO SPACES' }, 'invalid iptablesAdminChainName "NO SPACES"'],
  ])('refuses %j with a CNI error and leaves nothing', async (extra, message) => {
    const netns = await useTestNetns();
    const add = await firewallRun(netns, 'ADD', '1.0.0', a, extra);
    expect(add.exitCode).not.toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining(message) });
    expect((await filterDump(netns)).filter((line) => line.includes('CNI-'))).toEqual([]);
  });

  it('backend firewalld without a firewalld on the bus: a clear error, nothing left', async () => {
    const netns = await useTestNetns();
    const add = await firewallRun(netns, 'ADD', '1.0.0', a, { backend: 'firewalld' }, { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${netns.dir}/no-bus.sock` });
    expect(add.exitCode).not.toBe(0);
    expect(JSON.parse(add.stdout).msg).toContain('backend "firewalld" requested but no firewalld owns "org.fedoraproject.FirewallD1" on the D-Bus system bus');
    // DEL stays lenient, as upstream.
    expect((await firewallRun(netns, 'DEL', '1.0.0', a, { backend: 'firewalld' }, { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${netns.dir}/no-bus.sock` })).exitCode).toBe(0);
  });
});
