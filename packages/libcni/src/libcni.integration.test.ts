// SPDX-License-Identifier: Apache-2.0
// libcni driving Debian's reference plugins (Go, v1.1.1, /usr/lib/cni) in namespaces the test
// made. Every plugin runs inside the test's host namespace through the exec wrapper
// `ip netns exec <host>`, so bridges and host-side veths never reach the machine's own namespace.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readAddressList, readLink, readLinks, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { CniConfig, confListFromBytes, RawExec, type NetworkConfigList, type RuntimeConf } from './index.ts';

const REFERENCE = '/usr/lib/cni';
const haveReference = ['loopback', 'bridge', 'host-local', 'tuning'].every((p) => existsSync(join(REFERENCE, p)));

function referenceCni(netns: TestNetns): CniConfig {
  return new CniConfig({
    path: [REFERENCE],
    cacheDir: join(netns.dir, 'cache'),
    exec: new RawExec({ stderr: null, wrapper: ['ip', 'netns', 'exec', netns.host.name] }),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    timeout: 20_000,
  });
}

function bridgeList(netns: TestNetns, version = '1.0.0'): NetworkConfigList {
  return confListFromBytes(
    JSON.stringify({
      cniVersion: version,
      name: 'podnet',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cnitest0',
          isGateway: true,
          ipam: {
            type: 'host-local',
            dataDir: join(netns.dir, 'ipam'),
            ranges: [[{ subnet: '10.88.0.0/24' }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        // dataDir: tuning keeps its backups in the test's folder, not the machine's /run/cni/tuning.
        { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.core.somaxconn': '512' }, dataDir: join(netns.dir, 'tuning') },
      ],
    }),
  );
}

describe.skipIf(process.getuid?.() !== 0 || !haveReference)('libcni with the reference plugins', () => {
  it('runs loopback ADD, CHECK and DEL in the container namespace', async () => {
    const netns = await useTestNetns();
    // Start from a container whose lo is down, so that ADD visibly changes it.
    await netns.execContainer(['ip', 'link', 'set', 'lo', 'down']);
    const cni = referenceCni(netns);
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"lo","plugins":[{"type":"loopback"}]}');
    const rt: RuntimeConf = { containerId: 'lo-c1', netns: netns.container.path, ifName: 'lo' };
    const result = await cni.addNetworkList(list, rt);
    expect(result).toMatchObject({ cniVersion: '1.0.0', interfaces: [{ name: 'lo', sandbox: netns.container.path }] });
    expect((await readLink(netns.container, 'lo'))?.operstate).toBe('UNKNOWN');
    await cni.checkNetworkList(list, rt);
    await cni.delNetworkList(list, rt);
    expect((await readLink(netns.container, 'lo'))?.flags).not.toContain('UP');
    expect(cni.getCachedAttachments()).toEqual([]);
  });

  it('adds, checks and deletes a bridge + host-local + tuning chain, with capabilities', async () => {
    const netns = await useTestNetns();
    const before = await netns.snapshot();
    const cni = referenceCni(netns);
    const list = bridgeList(netns);
    const rt: RuntimeConf = {
      containerId: 'br-c1',
      netns: netns.container.path,
      ifName: 'eth0',
      capabilityArgs: { mac: '0a:58:0a:58:00:42' },
    };
    const result = await cni.addNetworkList(list, rt);
    expect(result.cniVersion).toBe('1.0.0');
    const ips = (result as { ips: { address: string }[] }).ips;
    expect(ips[0]?.address).toMatch(/^10\.88\.0\.\d+\/24$/);

    // The oracle is iproute2, not our code.
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual([ips[0]!.address]);
    expect((await readLink(netns.container, 'eth0'))?.address).toBe('0a:58:0a:58:00:42');
    expect(await readLink(netns.host, 'cnitest0')).toBeDefined();
    expect((await netns.execContainer(['cat', '/proc/sys/net/core/somaxconn'])).stdout.trim()).toBe('512');
    const attachments = cni.getCachedAttachments('br-c1');
    expect(attachments).toHaveLength(1);
    expect(attachments[0]?.capabilityArgs).toEqual({ mac: '0a:58:0a:58:00:42' });

    await cni.checkNetworkList(list, rt);
    await cni.delNetworkList(list, rt);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    expect(cni.getCachedAttachments()).toEqual([]);
    // DEL is idempotent, also without a cache.
    await cni.delNetworkList(list, rt);

    await netns.execHost(['ip', 'link', 'del', 'cnitest0']);
    await netns.expectNoLeaks(before);
  });

  it('garbage-collects exactly the stale attachments', async () => {
    const netns = await useTestNetns();
    const cni = referenceCni(netns);
    const list = bridgeList(netns);
    const base = { containerId: 'gc-c1', netns: netns.container.path };
    await cni.addNetworkList(list, { ...base, ifName: 'eth0' });
    await cni.addNetworkList(list, { ...base, ifName: 'eth1' });
    expect(readdirSync(join(netns.dir, 'ipam', 'podnet')).filter((f) => /^10\./.test(f))).toHaveLength(2);

    await cni.gcNetworkList(list, { validAttachments: [{ containerID: 'gc-c1', ifname: 'eth0' }] });

    const names = (await readLinks(netns.container)).map((l) => l.ifname);
    expect(names).toContain('eth0');
    expect(names).not.toContain('eth1');
    expect(cni.getCachedAttachments().map((a) => a.ifName)).toEqual(['eth0']);
    // host-local released the stale address, and only that one.
    expect(readdirSync(join(netns.dir, 'ipam', 'podnet')).filter((f) => /^10\./.test(f))).toHaveLength(1);

    await cni.delNetworkList(list, { ...base, ifName: 'eth0' });
    await netns.execHost(['ip', 'link', 'del', 'cnitest0']);
  });

  it('validates a list against what the plugins answer to VERSION', async () => {
    const netns = await useTestNetns({ container: false });
    const cni = referenceCni(netns);
    expect(await cni.validateNetworkList(bridgeList(netns))).toEqual(['mac']);
    // Debian's build predates spec 1.1.0.
    await expect(cni.validateNetworkList(bridgeList(netns, '1.1.0'))).rejects.toThrow(
      '[plugin bridge does not support config version "1.1.0" plugin tuning does not support config version "1.1.0"]',
    );
    expect((await cni.getVersionInfo('host-local')).supportedVersions).toContain('0.4.0');
  });

  it('reports a reference plugin error with its code', async () => {
    const netns = await useTestNetns();
    const cni = referenceCni(netns);
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"bad","plugins":[{"type":"bridge","ipam":{"type":"host-local"}}]}');
    const error = (await cni.addNetworkList(list, { containerId: 'bad-c1', netns: netns.container.path, ifName: 'eth0' }).catch((e: unknown) => e)) as {
      message: string;
      code?: number;
    };
    expect(error.message).toMatch(/^plugin type="bridge" failed \(add\): /);
    expect(typeof error.code).toBe('number');
    await netns.execHost(['ip', 'link', 'del', 'cni0']).catch(() => undefined);
  });
});
