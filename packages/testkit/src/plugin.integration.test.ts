// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createChain, execRunner } from './chain.ts';
import { useTestNetns } from './netns.ts';
import { execPlugin } from './plugin.ts';
import { readAddressList, readLink, readNftTables, readRoutes } from './readers.ts';

// Debian's containernetworking-plugins (the Go reference, v1.1.1) is the executable these tests
// drive: the runner must work with any CNI plugin, not only ours.
const referenceDir = '/usr/lib/cni';
const haveReference = existsSync(`${referenceDir}/bridge`);

describe.skipIf(process.getuid?.() !== 0)('execPlugin and createChain with the reference plugins', () => {
  it.skipIf(!haveReference)('runs VERSION with only the CNI variables', async () => {
    const out = await execPlugin(`${referenceDir}/bridge`, { command: 'VERSION' });
    expect(out.exitCode).toBe(0);
    expect(out.result).toMatchObject({ supportedVersions: expect.arrayContaining(['0.3.1', '1.0.0']) });
  });

  it.skipIf(!haveReference)('parses a plugin error from stdout', async () => {
    const netns = await useTestNetns();
    const out = await execPlugin(`${referenceDir}/bridge`, {
      command: 'ADD',
      netns: netns.container,
      hostNetns: netns.host,
      cniPath: referenceDir,
      stdin: '{"cniVersion":"1.0.0","name":"x","type":"bridge",',
    });
    expect(out.exitCode).toBe(1);
    expect(out.error?.code).toBeGreaterThan(0);
    expect(out.error?.msg).toMatch(/unmarshal|parse|JSON/i);
  });

  it.skipIf(!haveReference)('runs bridge + host-local + portmap in the test host namespace and cleans up on DEL', async () => {
    const netns = await useTestNetns({ defaultRoute: true });
    const list = {
      cniVersion: '1.0.0',
      name: 'chaintest',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cnitest0',
          isGateway: true,
          ipMasq: true,
          ipam: { type: 'host-local', dataDir: `${netns.dir}/ipam`, ranges: [[{ subnet: '10.77.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    };
    const before = await netns.snapshot();
    const chain = createChain(list, {
      runner: execRunner(referenceDir),
      containerId: 'c1',
      netns: netns.container,
      hostNetns: netns.host,
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
    });
    const result = (await chain.add()) as { ips: { address: string }[] };
    expect(result.ips[0]?.address).toBe('10.77.0.2/24');
    expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.77.0.2/24']);
    expect((await readLink(netns.host, 'cnitest0'))?.linkinfo?.info_kind).toBe('bridge');
    expect(await readRoutes(netns.container, { family: 4 })).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.77.0.1' }));
    // The machine's own namespace never sees the bridge: it lives in the test's host namespace.
    expect(await readLink(null, 'cnitest0')).toBeUndefined();
    expect(await readNftTables(netns.host)).not.toEqual([]);
    // No CHECK: v1.1.1's portmap fails it on a chain without IPv6 (fixed upstream since).
    await chain.del();
    // What upstream keeps on purpose after DEL: the bridge, and portmap's shared chains with the
    // nat table that holds them. The per-container chains and rules must be gone.
    await netns.expectNoLeaks(before, {
      ignore: ['cnitest0', / nftTables: ip6? nat$/, /iptablesChains: ip6?tables nat [A-Z]+$/, /iptables nat CNI-HOSTPORT-(DNAT|MASQ|SETMARK)$/, /iptablesRules: iptables nat (-A (PREROUTING|OUTPUT) -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT|.*CNI portfwd|-A CNI-HOSTPORT-MASQ -m mark)/],
    });
  });
});
