// SPDX-License-Identifier: Apache-2.0
// libcni is plugin-agnostic: the same chains through our built executables (apps/cni-bundle) and
// through Debian's reference binaries, and a mix of both (Debian's bridge delegating IPAM to our
// host-local), inside namespaces the test made.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readAddressList, readLink, useTestNetns, type TestNetns } from '@cni/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { CniConfig, confListFromBytes, RawExec, type RuntimeConf } from './index.ts';

const REFERENCE = '/usr/lib/cni';
const bundleDir = new URL('../../../apps/cni-bundle/', import.meta.url).pathname;
const OURS = join(bundleDir, 'dist', 'bin');

beforeAll(() => {
  // The e2e tier runs built executables; build the bundle if the tier runner has not.
  if (!existsSync(join(OURS, 'loopback'))) execFileSync('npx', ['tsup'], { cwd: bundleDir, stdio: 'ignore' });
}, 120_000);

function cni(netns: TestNetns, path: string[]): CniConfig {
  return new CniConfig({
    path,
    cacheDir: join(netns.dir, `cache-${path.map((p) => (p === OURS ? 'ours' : 'ref')).join('-')}`),
    exec: new RawExec({ stderr: null, wrapper: ['ip', 'netns', 'exec', netns.host.name] }),
    // A runtime-like environment (NODE_EXTRA_CA_CERTS would slow each node start down).
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    timeout: 30_000,
  });
}

describe.skipIf(process.getuid?.() !== 0 || !existsSync(join(REFERENCE, 'loopback')))('the same chains through ours and the reference', () => {
  it('loopback: same interfaces and addresses, and lo up after ADD either way', async () => {
    const netns = await useTestNetns();
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"lo","plugins":[{"type":"loopback"}]}');
    const results = [];
    for (const path of [[OURS], [REFERENCE]]) {
      await netns.execContainer(['ip', 'link', 'set', 'lo', 'down']);
      const runtime = cni(netns, path);
      const rt: RuntimeConf = { containerId: 'lo-c1', netns: netns.container.path, ifName: 'lo' };
      results.push(await runtime.addNetworkList(list, rt));
      expect(await readAddressList(netns.container, 'lo', 4)).toEqual(['127.0.0.1/8']);
      await runtime.checkNetworkList(list, rt);
      await runtime.delNetworkList(list, rt);
      expect((await readLink(netns.container, 'lo'))?.flags).not.toContain('UP');
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('Debian bridge and tuning with our host-local found first in CNI_PATH', async () => {
    const netns = await useTestNetns();
    const list = confListFromBytes(
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'mixed',
        plugins: [
          {
            type: 'bridge',
            bridge: 'mixbr0',
            isGateway: true,
            ipam: { type: 'host-local', dataDir: join(netns.dir, 'ipam'), ranges: [[{ subnet: '10.66.0.0/24' }]] },
          },
          // dataDir: Debian's tuning makes its backup folder even for sysctls alone; keep it in the test's folder.
          { type: 'tuning', sysctl: { 'net.core.somaxconn': '600' }, dataDir: join(netns.dir, 'tuning') },
        ],
      }),
    );
    // Only ours has host-local first; bridge and tuning come from Debian's folder.
    const runtime = cni(netns, [OURS, REFERENCE]);
    const rt: RuntimeConf = { containerId: 'mix-c1', netns: netns.container.path, ifName: 'eth0' };
    const result = (await runtime.addNetworkList(list, rt)) as { ips: { address: string; gateway?: string }[] };
    expect(result.ips[0]).toMatchObject({ address: '10.66.0.2/24', gateway: '10.66.0.1' });
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.66.0.2/24']);
    expect(existsSync(join(netns.dir, 'ipam', 'mixed', '10.66.0.2'))).toBe(true);
    await runtime.checkNetworkList(list, rt);
    await runtime.delNetworkList(list, rt);
    expect(existsSync(join(netns.dir, 'ipam', 'mixed', '10.66.0.2'))).toBe(false);
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();
    await netns.execHost(['ip', 'link', 'del', 'mixbr0']);
  });
});
