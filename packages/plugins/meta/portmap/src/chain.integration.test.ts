// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChain, exec, execPlugin, findPlugin, ipJson, readNftRuleset, tcJson, UPLINK_ADDRESSES, useTestNetns, type PluginRunner, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { request, startServer } from './__tests__/traffic.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const HOST_V4 = UPLINK_ADDRESSES.ipv4.host.split('/')[0]!;
const WORLD_V4 = UPLINK_ADDRESSES.ipv4.gateway;
const ID = 'chain-ctr-1';

/** Every plugin from our bundle, with `PATH` in front of the runtime's (to pick an iptables variant). */
function bundleRunner(path?: string): PluginRunner {
  return (type, options) => execPlugin(findPlugin(type, BIN), { cniPath: BIN, ...options, ...(path ? { extraEnv: { PATH: path } } : {}) });
}

/** A PATH whose iptables and ip6tables are the legacy ones. */
function legacyPath(netns: TestNetns): string {
  const shim = join(netns.dir, 'legacy-bin');
  mkdirSync(shim);
  for (const tool of ['iptables', 'ip6tables', 'iptables-save', 'ip6tables-save']) symlinkSync(`/usr/sbin/${tool.replace(/(-save)?$/, '-legacy$1')}`, join(shim, tool));
  return `${shim}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
}

/** Everything in the host namespace that names the container's address or ID (both iptables variants, nftables). */
async function traces(netns: TestNetns): Promise<string[]> {
  const dumps = await Promise.all(
    ['iptables-nft-save', 'ip6tables-nft-save', 'iptables-legacy-save', 'ip6tables-legacy-save'].map(async (tool) => (await exec(netns.host, [tool], { allowFailure: true })).stdout),
  );
  const nft = JSON.stringify(await readNftRuleset(netns.host));
  return [...dumps.join('\n').split('\n'), nft].filter((line) => /10\.66\.0\.2\b|fd66::2\b|chain-ctr-1|CNI-DN-/.test(line));
}

/** The ifb links and the shaping qdiscs in the host namespace (what bandwidth makes there). */
async function shaping(netns: TestNetns): Promise<string[]> {
  const links = (await ipJson(netns.host, ['-d', 'link', 'show'])) as { ifname: string; linkinfo?: { info_kind?: string } }[];
  const ifbs = links.filter((link) => link.linkinfo?.info_kind === 'ifb').map((link) => `ifb ${link.ifname}`);
  const qdiscs = (await tcJson(netns.host, ['qdisc', 'show'])) as { kind: string; dev: string }[];
  return [...ifbs, ...qdiscs.filter((q) => q.kind === 'tbf' || q.kind === 'ingress').map((q) => `${q.kind} on ${q.dev}`)];
}

describe.skipIf(process.getuid?.() !== 0)('a chain of our plugins as a runtime runs it: bridge + host-local, tuning, portmap, bandwidth, firewall', () => {
  for (const variant of ['nft', 'legacy'] as const) {
    it(`iptables-${variant}: ADD forwards the host port, CHECK passes, DEL leaves nothing of the container`, async () => {
      const netns = await useTestNetns({ defaultRoute: true });
      for (const ns of [netns.host, netns.container]) {
        await exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      }
      const chain = createChain(
        {
          cniVersion: '1.1.0',
          name: 'chainnet',
          plugins: [
            {
              type: 'bridge',
              bridge: 'cni-ch0',
              isGateway: true,
              hairpinMode: true,
              ipam: {
                type: 'host-local',
                dataDir: netns.dir,
                ranges: [[{ subnet: '10.66.0.0/24' }], [{ subnet: 'fd66::/64' }]],
                routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
              },
            },
            // tuning's backups go to the test's folder, never the machine's /run/cni/tuning.
            { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '2' }, mtu: 1400, dataDir: join(netns.dir, 'tuning') },
            { type: 'portmap', capabilities: { portMappings: true }, backend: 'iptables' },
            { type: 'bandwidth', capabilities: { bandwidth: true } },
            { type: 'firewall', backend: 'iptables' },
          ],
        },
        {
          runner: bundleRunner(variant === 'legacy' ? legacyPath(netns) : undefined),
          netns: netns.container,
          hostNetns: netns.host,
          containerId: ID,
          capabilityArgs: {
            portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
            bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000, egressRate: 8_000_000, egressBurst: 80_000 },
          },
        },
      );
      await chain.add();
      await startServer(netns.container, 80, 53);
      expect(await request(netns.world!, 'tcp', HOST_V4, 8080)).toBe(`tcp from ${WORLD_V4}`);
      expect(await request(netns.container, 'tcp', HOST_V4, 8080)).toBe('tcp from 10.66.0.1');
      expect((await traces(netns)).length).toBeGreaterThan(0);
      // tuning and bandwidth did their part: the container's MTU, and shaping on the host side.
      const eth0 = ((await ipJson(netns.container, ['link', 'show', 'eth0'])) as { mtu: number }[])[0];
      expect(eth0?.mtu).toBe(1400);
      expect((await shaping(netns)).some((entry) => entry.startsWith('ifb '))).toBe(true);
      expect((await shaping(netns)).filter((entry) => entry.startsWith('tbf '))).toHaveLength(2);
      // The rules went to the variant on PATH, and only there.
      const nat = async (tool: string) => (await exec(netns.host, [tool, '-t', 'nat'], { allowFailure: true })).stdout;
      expect(await nat(`iptables-${variant}-save`)).toContain('CNI-DN-');
      expect(await nat(`iptables-${variant === 'nft' ? 'legacy' : 'nft'}-save`)).not.toContain('CNI-DN-');
      await chain.check();
      await chain.gc([{ containerID: ID, ifname: 'eth0' }]);
      await chain.check(); // GC kept the live attachment
      await chain.del();
      expect(await traces(netns)).toEqual([]);
      expect(await shaping(netns)).toEqual([]);
      // Legacy tables stay loaded in the namespace; empty them so the namespace goes clean.
      if (variant === 'legacy') {
        for (const tool of ['iptables-legacy', 'ip6tables-legacy']) {
          for (const table of ['nat', 'filter']) {
            await exec(netns.host, [tool, '-t', table, '-F']);
            await exec(netns.host, [tool, '-t', table, '-X']);
          }
        }
      }
    });
  }
});
