// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import {
  createChain,
  exec,
  execPlugin,
  execRunner,
  readIptablesSave,
  readNftRuleset,
  readSysctl,
  UPLINK_ADDRESSES,
  useTestNetns,
  type TestNetns,
} from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { request, startServer } from './__tests__/traffic.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const DEBIAN = '/usr/lib/cni';
const HOST_V4 = UPLINK_ADDRESSES.ipv4.host.split('/')[0]!;
const HOST_V6 = UPLINK_ADDRESSES.ipv6.host.split('/')[0]!;
const WORLD_V4 = UPLINK_ADDRESSES.ipv4.gateway;
const WORLD_V6 = UPLINK_ADDRESSES.ipv6.gateway;
const ID = 'portmap-ctr-1';
const MAPPINGS = [
  { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
  { hostPort: 8053, containerPort: 53, protocol: 'udp' },
];

/** bridge (hairpin) + host-local from Debian, then portmap from `portmapPath`. */
function conflist(netns: TestNetns, portmap: Record<string, unknown> = {}, cniVersion = '1.0.0', name = 'pmnet') {
  return {
    cniVersion,
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-pm0',
        isGateway: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: netns.dir,
          ranges: [[{ subnet: '10.66.0.0/24' }], [{ subnet: 'fd66::/64' }]],
          routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, ...portmap },
    ],
  };
}

/** A runner that takes portmap from `portmapDir` and the rest from Debian's reference. */
function runnerWith(portmapDir: string) {
  const ours = execRunner([portmapDir, DEBIAN]);
  const debian = execRunner([DEBIAN]);
  return (type: string, options: Parameters<typeof ours>[1]) => (type === 'portmap' ? ours(type, options) : debian(type, options));
}

async function setup(portmap: Record<string, unknown> = {}, options: { dir?: string; mappings?: unknown[]; containerId?: string } = {}) {
  const netns = await useTestNetns({ defaultRoute: true });
  // The kernel delays the bridge's IPv6 until DAD; no DAD in these namespaces keeps the tests quick.
  for (const ns of [netns.host, netns.container]) {
    await exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
  }
  const chain = createChain(conflist(netns, portmap), {
    runner: runnerWith(options.dir ?? BIN),
    netns: netns.container,
    hostNetns: netns.host,
    containerId: options.containerId ?? ID,
    capabilityArgs: { portMappings: options.mappings ?? MAPPINGS },
  });
  return { netns, chain };
}

/** Our chains and tables in the host namespace: what DEL must remove. */
async function portmapState(netns: TestNetns) {
  const nat = [4, 6].map(async (family) => readIptablesSave(netns.host, { family: family as 4 | 6, table: 'nat' }));
  const saves = (await Promise.all(nat)).join('\n');
  const ruleset = await readNftRuleset(netns.host);
  return {
    dnChains: saves.split('\n').filter((line) => /CNI-DN-/.test(line)),
    nftRules: ruleset.filter((object) => object['rule'] && (object['rule'] as { table?: string }).table === 'cni_hostport' && (object['rule'] as { comment?: string }).comment !== undefined),
  };
}

describe.skipIf(process.getuid?.() !== 0)('portmap on the host kernel', () => {
  for (const backend of ['iptables', 'nftables'] as const) {
    it(`${backend}: forwards host ports from another namespace, the host's loopback and the pod itself (hairpin), IPv4 and IPv6`, async () => {
      const { netns, chain } = await setup({ backend });
      await chain.add();
      await startServer(netns.container, 80, 53);

      // From another namespace, no masquerade: the pod sees the client's address.
      expect(await request(netns.world!, 'tcp', HOST_V4, 8080)).toBe(`tcp from ${WORLD_V4}`);
      expect(await request(netns.world!, 'tcp', HOST_V6, 8080)).toBe(`tcp from ${WORLD_V6}`);
      expect(await request(netns.world!, 'udp', HOST_V4, 8053)).toBe(`udp from ${WORLD_V4}`);
      expect(await request(netns.world!, 'udp', HOST_V6, 8053)).toBe(`udp from ${WORLD_V6}`);
      // From the host's loopback: route_localnet and masquerading to the bridge's address.
      expect(await request(netns.host, 'tcp', '127.0.0.1', 8080)).toBe('tcp from 10.66.0.1');
      expect(await readSysctl(netns.host, 'net.ipv4.conf.cni-pm0.route_localnet')).toBe('1');
      // Hairpin: the pod reaches itself through the host port, masqueraded.
      expect(await request(netns.container, 'tcp', HOST_V4, 8080)).toBe('tcp from 10.66.0.1');
      expect(await request(netns.container, 'tcp', HOST_V6, 8080)).toBe('tcp from fd66::1');

      await chain.check();
      const before = await portmapState(netns);
      if (backend === 'iptables') expect(before.dnChains.length).toBeGreaterThan(0);
      else expect(before.nftRules.length).toBeGreaterThan(0);

      await chain.del();
      expect(await portmapState(netns)).toEqual({ dnChains: [], nftRules: [] });
      expect(await request(netns.world!, 'tcp', HOST_V4, 8080)).not.toContain('tcp from');
      // DEL again: nothing to do, no error.
      await chain.del();
    });
  }

  it('nftables: conditionsV4 hold for the container that set them, not for a later container without any (upstream: last ADD wins)', async () => {
    const { netns, chain } = await setup({ backend: 'nftables', conditionsV4: ['ip', 'saddr', '10.99.0.0/16'] }, { mappings: [MAPPINGS[0]!] });
    const result = await chain.add();
    await startServer(netns.container, 80, 53);
    // The world (192.0.2.254) is outside 10.99.0.0/16: the first container's port stays closed to it.
    expect(await request(netns.world!, 'tcp', HOST_V4, 8080)).not.toContain('tcp from');
    // A second attachment without conditions, to the same pod address on another port.
    const second = await execPlugin(`${BIN}/portmap`, {
      command: 'ADD',
      netns: netns.container,
      hostNetns: netns.host,
      containerId: 'portmap-ctr-2',
      ifName: 'eth0',
      cniPath: BIN,
      conf: { cniVersion: '1.0.0', name: 'pmnet', type: 'portmap', backend: 'nftables', runtimeConfig: { portMappings: [{ hostPort: 9090, containerPort: 80, protocol: 'tcp' }] }, prevResult: result },
    });
    expect(second.exitCode).toBe(0);
    expect(await request(netns.world!, 'tcp', HOST_V4, 9090)).toBe(`tcp from ${WORLD_V4}`);
    expect(await request(netns.world!, 'tcp', HOST_V4, 8080)).not.toContain('tcp from');
    await execPlugin(`${BIN}/portmap`, {
      command: 'DEL',
      netns: netns.container,
      hostNetns: netns.host,
      containerId: 'portmap-ctr-2',
      ifName: 'eth0',
      cniPath: BIN,
      conf: { cniVersion: '1.0.0', name: 'pmnet', type: 'portmap', backend: 'nftables', runtimeConfig: { portMappings: [{ hostPort: 9090, containerPort: 80, protocol: 'tcp' }] } },
    });
    await chain.del();
    expect(await portmapState(netns)).toEqual({ dnChains: [], nftRules: [] });
  });

  it('iptables: the same nat rules as Debian\'s reference portmap (v1.1.1) for snat, markMasqBit and conditionsV4/V6', async () => {
    const portmap = { backend: undefined, markMasqBit: 5, conditionsV4: ['!', '-s', '10.99.0.0/16'], conditionsV6: ['!', '-s', 'fd99::/64'] };
    const mappings = [...MAPPINGS, { hostPort: 9090, containerPort: 90, protocol: 'tcp', hostIP: HOST_V4 }];
    const ours = await setup(portmap, { mappings });
    const theirs = await setup(portmap, { mappings, dir: DEBIAN });
    await ours.chain.add();
    await theirs.chain.add();
    const dump = async (netns: TestNetns) =>
      (await Promise.all([4, 6].map((family) => readIptablesSave(netns.host, { family: family as 4 | 6, table: 'nat' }))))
        .join('\n')
        .split('\n')
        .filter((line) => /^[-:]/.test(line))
        .map((line) => line.replace(/ \[\d+:\d+\]$/, ''))
        .sort();
    expect(await dump(ours.netns)).toEqual(await dump(theirs.netns));
    await ours.chain.check();
    // Not theirs: v1.1.1's CHECK looks for the IPv4 rules in ip6tables and fails (fixed upstream since).
    // Each removes what the other wrote: the names and comments agree.
    const debianDel = await execPlugin(`${DEBIAN}/portmap`, {
      command: 'DEL',
      netns: ours.netns.container,
      hostNetns: ours.netns.host,
      containerId: ID,
      ifName: 'eth0',
      cniPath: DEBIAN,
      conf: { cniVersion: '1.0.0', name: 'pmnet', type: 'portmap', runtimeConfig: { portMappings: mappings } },
    });
    expect(debianDel.stderr + debianDel.stdout).toBe('');
    expect((await portmapState(ours.netns)).dnChains).toEqual([]);
    const ourDel = await execPlugin(`${BIN}/portmap`, {
      command: 'DEL',
      netns: theirs.netns.container,
      hostNetns: theirs.netns.host,
      containerId: ID,
      ifName: 'eth0',
      cniPath: DEBIAN,
      conf: { cniVersion: '1.0.0', name: 'pmnet', type: 'portmap', runtimeConfig: { portMappings: mappings } },
    });
    expect(ourDel.stderr + ourDel.stdout).toBe('');
    expect((await portmapState(theirs.netns)).dnChains).toEqual([]);
    await ours.chain.del();
    await theirs.chain.del();
  });
});
