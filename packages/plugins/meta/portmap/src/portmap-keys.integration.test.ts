// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SPEC_VERSIONS, compareVersions } from '@cni/spec';
import { exec, execPlugin, readIptablesSave, UPLINK_ADDRESSES, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { request } from './__tests__/traffic.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const HOST_V4 = UPLINK_ADDRESSES.ipv4.host.split('/')[0]!;
const TCP = { hostPort: 8080, containerPort: 80, protocol: 'tcp' };
const UDP = { hostPort: 8053, containerPort: 53, protocol: 'udp' };

/** A prevResult in `version`'s format: eth0 in the container with 10.66.0.2/24 and fd66::2/64. */
function prevResult(netns: TestNetns, version: string): Record<string, unknown> {
  if (compareVersions(version, '0.3.0') < 0) return { cniVersion: version, ip4: { ip: '10.66.0.2/24' }, ip6: { ip: 'fd66::2/64' } };
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces: [{ name: 'eth0', sandbox: netns.container.path }],
    ips: [
      { ...(legacy ? { version: '4' } : {}), address: '10.66.0.2/24', interface: 0 },
      { ...(legacy ? { version: '6' } : {}), address: 'fd66::2/64', interface: 0 },
    ],
  };
}

interface RunOptions {
  version?: string;
  containerId?: string;
  network?: string;
  mappings?: unknown[];
  extra?: Record<string, unknown>;
  extraEnv?: Record<string, string>;
  withPrevResult?: boolean;
}

/** The built portmap, in the test's host namespace. */
async function portmap(netns: TestNetns, command: 'ADD' | 'DEL' | 'CHECK' | 'GC', options: RunOptions = {}) {
  const version = options.version ?? '1.0.0';
  const conf: Record<string, unknown> = {
    cniVersion: version,
    name: options.network ?? 'pmnet',
    type: 'portmap',
    runtimeConfig: { portMappings: options.mappings ?? [TCP, UDP] },
    ...options.extra,
  };
  if (command !== 'GC' && options.withPrevResult !== false) conf['prevResult'] = prevResult(netns, version);
  return execPlugin(`${BIN}/portmap`, {
    command,
    netns: netns.container,
    hostNetns: netns.host,
    containerId: options.containerId ?? 'ctr-a',
    ifName: 'eth0',
    cniPath: BIN,
    conf,
    ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}),
  });
}

async function ok(run: Promise<{ exitCode: number | null; stdout: string; stderr: string }>) {
  const result = await run;
  expect(result.stderr + (result.exitCode === 0 ? '' : result.stdout)).toBe('');
  expect(result.exitCode).toBe(0);
  return result;
}

const nat = async (netns: TestNetns, family: 4 | 6 = 4) =>
  (await readIptablesSave(netns.host, { family, table: 'nat' })).split('\n').filter((line) => line.startsWith('-A') || line.startsWith(':'));
const cniLines = async (netns: TestNetns, family: 4 | 6 = 4) => (await nat(netns, family)).filter((line) => /CNI-/.test(line));
const nftTable = async (netns: TestNetns, family: 'ip' | 'ip6' = 'ip') =>
  (await exec(netns.host, ['nft', 'list', 'table', family, 'cni_hostport'], { allowFailure: true })).stdout;

describe.skipIf(process.getuid?.() !== 0)('portmap keys and verbs (built executable)', () => {
  it.each(ALL_SPEC_VERSIONS)('spec %s: ADD passes prevResult through and writes both families, CHECK, DEL, GC', async (version) => {
    const netns = await useTestNetns();
    const add = await ok(portmap(netns, 'ADD', { version }));
    expect(JSON.parse(add.stdout)).toMatchObject(prevResult(netns, version));
    expect((await cniLines(netns, 4)).some((line) => line.includes('--to-destination 10.66.0.2:80'))).toBe(true);
    expect((await cniLines(netns, 6)).some((line) => line.includes('--to-destination [fd66::2]:80'))).toBe(true);
    if (compareVersions(version, '0.4.0') >= 0) {
      await ok(portmap(netns, 'CHECK', { version }));
      // CHECK notices a missing rule.
      const dn = (await cniLines(netns, 4)).find((line) => line.startsWith('-A CNI-DN-') && line.includes('DNAT'))!;
      await exec(netns.host, ['iptables', '-t', 'nat', '-D', ...dn.slice(3).split(' ')]);
      expect((await portmap(netns, 'CHECK', { version })).exitCode).not.toBe(0);
    }
    if (compareVersions(version, '1.1.0') >= 0) {
      await ok(portmap(netns, 'GC', { version, extra: { 'cni.dev/valid-attachments': [] } }));
    } else {
      await ok(portmap(netns, 'DEL', { version }));
    }
    expect((await cniLines(netns, 4)).filter((line) => /CNI-DN-/.test(line))).toEqual([]);
    expect((await cniLines(netns, 6)).filter((line) => /CNI-DN-/.test(line))).toEqual([]);
    await ok(portmap(netns, 'DEL', { version }));
  });

  it('iptables: snat, markMasqBit, masqAll, externalSetMarkChain, conditionsV4/V6, hostIP and sctp each change the rules', async () => {
    const netns = await useTestNetns();
    const rulesWith = async (options: RunOptions, chains: string[] = []) => {
      for (const chain of chains) for (const family of ['iptables', 'ip6tables']) await exec(netns.host, [family, '-t', 'nat', '-N', chain]);
      await ok(portmap(netns, 'ADD', { ...options, extra: { backend: 'iptables', ...options.extra } }));
      const lines = [...(await cniLines(netns, 4)), ...(await cniLines(netns, 6))];
      await ok(portmap(netns, 'DEL', { ...options, extra: { backend: 'iptables', ...options.extra } }));
      // Shared chains stay after DEL (as upstream); flush them so each case starts clean.
      for (const family of ['iptables', 'ip6tables']) {
        await exec(netns.host, [family, '-t', 'nat', '-F']);
        await exec(netns.host, [family, '-t', 'nat', '-X']);
      }
      return lines.join('\n');
    };
    const defaults = await rulesWith({});
    expect(defaults).toContain('-j MARK --set-xmark 0x2000/0x2000');
    expect(defaults).toContain('-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ');
    expect(defaults).toMatch(/-s 10\.66\.0\.0\/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK/);
    expect(defaults).toMatch(/-s 127\.0\.0\.1\/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK/);

    expect(await rulesWith({ extra: { markMasqBit: 5 } })).toContain('--set-xmark 0x20/0x20');
    const noSnat = await rulesWith({ extra: { snat: false } });
    expect(noSnat).not.toContain('SETMARK');
    expect(noSnat).not.toContain('CNI-HOSTPORT-MASQ');
    const masqAll = await rulesWith({ extra: { masqAll: true } });
    expect(masqAll).toMatch(/-A CNI-DN-\S+ -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK/);
    expect(masqAll).not.toContain('127.0.0.1');

    const external = await rulesWith({ extra: { externalSetMarkChain: 'KUBE-MARK-MASQ' } }, ['KUBE-MARK-MASQ']);
    expect(external).toContain('-j KUBE-MARK-MASQ');
    expect(external).not.toContain('CNI-HOSTPORT-SETMARK');

    const conditions = await rulesWith({ extra: { conditionsV4: ['!', '-s', '10.99.0.0/16'], conditionsV6: ['!', '-d', 'fd99::/64'] } });
    expect(conditions).toMatch(/-A CNI-HOSTPORT-DNAT ! -s 10\.99\.0\.0\/16 -p tcp .* -j CNI-DN-/);
    expect(conditions).toMatch(/-A CNI-HOSTPORT-DNAT ! -d fd99::\/64 -p tcp .* -j CNI-DN-/);

    const hostIp = await rulesWith({ mappings: [{ ...TCP, hostIP: HOST_V4 }, { ...UDP, protocol: 'sctp', hostIP: '::' }] });
    expect(hostIp).toMatch(/-d 192\.0\.2\.1\/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.66\.0\.2:80/);
    expect(hostIp).toMatch(/-p sctp -m sctp --dport 8053 -j DNAT --to-destination \[fd66::2\]:53/);
    expect(hostIp).not.toMatch(/--dport 8080 -j DNAT --to-destination \[fd66::2\]/);
  });

  it('nftables: conditions stay with the container that set them; masqAll and snat change the masquerade rules', async () => {
    const netns = await useTestNetns();
    await ok(portmap(netns, 'ADD', { containerId: 'ctr-a', extra: { backend: 'nftables', conditionsV4: ['ip', 'saddr', '10.99.0.0/16'] } }));
    await ok(portmap(netns, 'ADD', { containerId: 'ctr-b', mappings: [{ ...TCP, hostPort: 9090 }], extra: { backend: 'nftables', masqAll: true } }));
    const table = await nftTable(netns);
    expect(table).toMatch(/ip saddr 10\.99\.0\.0\/16 tcp dport 8080 dnat to 10\.66\.0\.2:80 comment "ctr-a"/);
    expect(table).toMatch(/\t\ttcp dport 9090 dnat to 10\.66\.0\.2:80 comment "ctr-b"/);
    expect(table).toMatch(/chain prerouting \{[^}]*\n\t\tfib daddr type local jump hostports_all\n/);
    expect(table).toMatch(/ip saddr 0\.0\.0\.0\/0 ip daddr 10\.66\.0\.2 masquerade comment "ctr-b"/);
    expect(table).toMatch(/ip saddr 127\.0\.0\.1 ip daddr 10\.66\.0\.2 masquerade comment "ctr-a"/);
    await ok(portmap(netns, 'CHECK', { containerId: 'ctr-a', extra: { backend: 'nftables', conditionsV4: ['ip', 'saddr', '10.99.0.0/16'] } }));
    // A repeated ADD replaces the container's rules.
    await ok(portmap(netns, 'ADD', { containerId: 'ctr-a', extra: { backend: 'nftables', snat: false } }));
    const again = await nftTable(netns);
    expect(again.match(/comment "ctr-a"/g)).toHaveLength(3); // two DNATs and the network marker
    await ok(portmap(netns, 'DEL', { containerId: 'ctr-a', extra: { backend: 'nftables' } }));
    await ok(portmap(netns, 'DEL', { containerId: 'ctr-b', extra: { backend: 'nftables' } }));
    expect(await nftTable(netns)).not.toContain('comment "ctr-');
    expect(await nftTable(netns, 'ip6')).not.toContain('comment "ctr-');
  });

  for (const backend of ['iptables', 'nftables']) {
    it(`${backend}: GC removes the rules of this network's containers not in valid-attachments, and nothing else`, async () => {
      const netns = await useTestNetns();
      const extra = { backend };
      await ok(portmap(netns, 'ADD', { containerId: 'ctr-gone', extra }));
      await ok(portmap(netns, 'ADD', { containerId: 'ctr-live', mappings: [{ ...TCP, hostPort: 9090 }], extra }));
      await ok(portmap(netns, 'ADD', { containerId: 'ctr-other', network: 'othernet', mappings: [{ ...TCP, hostPort: 9191 }], extra }));
      const state = async () => {
        if (backend === 'iptables') return (await cniLines(netns, 4)).concat(await cniLines(netns, 6)).filter((line) => line.startsWith('-A CNI-HOSTPORT-DNAT')).join('\n');
        return (await nftTable(netns)) + (await nftTable(netns, 'ip6'));
      };
      const mentions = (text: string, id: string) => text.split('\n').filter((line) => line.includes(id)).length;
      const before = await state();
      await ok(portmap(netns, 'GC', { version: '1.1.0', extra: { ...extra, 'cni.dev/valid-attachments': [{ containerID: 'ctr-live', ifname: 'eth0' }] } }));
      const after = await state();
      expect(mentions(after, 'ctr-gone')).toBe(0);
      expect(mentions(before, 'ctr-gone')).toBeGreaterThan(0);
      expect(mentions(after, 'ctr-live')).toBe(mentions(before, 'ctr-live'));
      expect(mentions(after, 'ctr-other')).toBe(mentions(before, 'ctr-other'));
      await ok(portmap(netns, 'DEL', { containerId: 'ctr-live', extra }));
      await ok(portmap(netns, 'DEL', { containerId: 'ctr-other', network: 'othernet', extra }));
    });
  }

  it('ADD deletes the stale UDP conntrack entries of a mapped port', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    // Another container's mapping turns conntrack on in the namespace (the kernel tracks nothing before a
    // NAT rule exists); a client then sends to the host port before its mapping exists: the flow is kept.
    await ok(portmap(netns, 'ADD', { containerId: 'ctr-x', mappings: [TCP], extra: { backend: 'nftables' } }));
    await request(netns.world!, 'udp', HOST_V4, 8053);
    const flows = async () => (await exec(netns.host, ['conntrack', '-L', '-p', 'udp', '--orig-port-dst', '8053'], { allowFailure: true })).stdout.trim();
    expect(await flows()).toContain('dport=8053');
    await ok(portmap(netns, 'ADD', { mappings: [UDP], extra: { backend: 'nftables' } }));
    expect(await flows()).toBe('');
    await ok(portmap(netns, 'DEL', { mappings: [UDP], extra: { backend: 'nftables' } }));
    await ok(portmap(netns, 'DEL', { containerId: 'ctr-x', mappings: [TCP], extra: { backend: 'nftables' } }));
  });

  it('iptables: concurrent ADDs into a fresh table lose no rule and write each shared rule once; a repeated ADD replaces; concurrent DELs', async () => {
    const netns = await useTestNetns();
    const ids = ['ctr-1', 'ctr-2', 'ctr-3', 'ctr-4', 'ctr-5'];
    const mappingsOf = (index: number) => [{ hostPort: 9000 + index, containerPort: 80, protocol: 'tcp' }];
    // Every ADD finds the shared chains missing at first: their batches race to make them.
    await Promise.all(ids.map((containerId, index) => ok(portmap(netns, 'ADD', { containerId, mappings: mappingsOf(index), extra: { backend: 'iptables' } }))));
    for (const family of [4, 6] as const) {
      const lines = await cniLines(netns, family);
      const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
      expect(count(/^:CNI-DN-/)).toBe(ids.length);
      expect(count(/^-A CNI-HOSTPORT-DNAT .* -j CNI-DN-/)).toBe(ids.length);
      expect(count(/^-A CNI-DN-.* -j DNAT /)).toBe(ids.length);
      expect(count(/^-A PREROUTING .*-j CNI-HOSTPORT-DNAT$/)).toBe(1);
      expect(count(/^-A OUTPUT .*-j CNI-HOSTPORT-DNAT$/)).toBe(1);
      expect(count(/^-A POSTROUTING .*-j CNI-HOSTPORT-MASQ$/)).toBe(1);
      expect(count(/^-A CNI-HOSTPORT-SETMARK /)).toBe(1);
      expect(count(/^-A CNI-HOSTPORT-MASQ /)).toBe(1);
    }
    for (const [index, containerId] of ids.entries()) await ok(portmap(netns, 'CHECK', { containerId, mappings: mappingsOf(index), extra: { backend: 'iptables' } }));

    // A repeated ADD with other mappings keeps no rule of the first one.
    await ok(portmap(netns, 'ADD', { containerId: 'ctr-1', mappings: [TCP], extra: { backend: 'iptables' } }));
    const replaced = await cniLines(netns, 4);
    expect(replaced.filter((line) => line.includes('ctr-1'))).toHaveLength(1);
    expect(replaced.some((line) => line.includes('--dport 9000 '))).toBe(false);
    expect(replaced.some((line) => line.includes('--dport 8080 '))).toBe(true);

    await Promise.all(ids.map((containerId) => ok(portmap(netns, 'DEL', { containerId, extra: { backend: 'iptables' } }))));
    for (const family of [4, 6] as const) expect((await cniLines(netns, family)).filter((line) => /CNI-DN-/.test(line))).toEqual([]);
  });

  it('runs with iptables-legacy when that is the iptables on PATH', async () => {
    const netns = await useTestNetns();
    const shim = join(netns.dir, 'legacy-bin');
    mkdirSync(shim);
    for (const tool of ['iptables', 'ip6tables']) symlinkSync(`/usr/sbin/${tool}-legacy`, join(shim, tool));
    const extraEnv = { PATH: `${shim}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
    await ok(portmap(netns, 'ADD', { extra: { backend: 'iptables' }, extraEnv }));
    const legacy = (await exec(netns.host, ['iptables-legacy-save', '-t', 'nat'])).stdout;
    expect(legacy).toContain('-j DNAT --to-destination 10.66.0.2:80');
    expect((await exec(netns.host, ['iptables-nft-save', '-t', 'nat'])).stdout).not.toContain('CNI-DN-');
    await ok(portmap(netns, 'CHECK', { extra: { backend: 'iptables' }, extraEnv }));
    await ok(portmap(netns, 'DEL', { extra: { backend: 'iptables' }, extraEnv }));
    expect((await exec(netns.host, ['iptables-legacy-save', '-t', 'nat'])).stdout).not.toContain('CNI-DN-');
    // Legacy tables stay loaded in the namespace; empty them so the namespace goes clean.
    for (const tool of ['iptables-legacy', 'ip6tables-legacy']) {
      await exec(netns.host, [tool, '-t', 'nat', '-F']);
      await exec(netns.host, [tool, '-t', 'nat', '-X']);
    }
  });

  it('a failed ADD takes back what it wrote: iptables (a missing externalSetMarkChain) and nftables (IPv6 fails after IPv4)', async () => {
    const netns = await useTestNetns();
    const iptables = await portmap(netns, 'ADD', { extra: { externalSetMarkChain: 'KUBE-NOPE' } });
    expect(iptables.exitCode).not.toBe(0);
    expect(JSON.parse(iptables.stdout).msg).toContain('KUBE-NOPE');
    expect([...(await cniLines(netns, 4)), ...(await cniLines(netns, 6))]).toEqual([]);

    const nftables = await portmap(netns, 'ADD', { extra: { conditionsV6: ['ip6', 'saddr', 'not-an-address'] } });
    expect(nftables.exitCode).not.toBe(0);
    expect(JSON.parse(nftables.stdout).msg).toContain('unable to set up nftables rules for port mappings');
    expect(await nftTable(netns)).toBe('');
    expect(await nftTable(netns, 'ip6')).toBe('');
  });

  it.each([
    [{ mappings: [{ ...TCP, hostPort: 0 }] }, 'invalid runtimeConfig.portMappings[0].hostPort 0'],
    [{ mappings: [{ ...TCP, protocol: 'icmp' }] }, 'invalid runtimeConfig.portMappings[0].protocol "icmp"'],
    [{ extra: { backend: 'ipvs' } }, 'invalid backend "ipvs"'],
    [{ extra: { markMasqBit: 40 } }, 'invalid markMasqBit 40'],
    [{ withPrevResult: false }, 'must be called as chained plugin'],
  ] as [RunOptions, string][])('refuses %j with a CNI error and leaves nothing', async (options, message) => {
    const netns = await useTestNetns();
    const result = await portmap(netns, 'ADD', options);
    expect(result.exitCode).not.toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining(message) });
    expect(await cniLines(netns, 4)).toEqual([]);
    expect(await nftTable(netns)).toBe('');
  });
});
