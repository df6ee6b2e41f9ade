// SPDX-License-Identifier: Apache-2.0
// The usage example of README.md, run as written.
import { describe, expect, it } from 'vitest';
import { createChain, execRunner, readAddressList, readLink, useTestNetns } from './index.ts';

describe.skipIf(process.getuid?.() !== 0)('bridge', () => {
  it('attaches a container to a bridge in the test host namespace', async () => {
    const netns = await useTestNetns({ defaultRoute: true }); // host, container, world; removed after the test
    const before = await netns.snapshot();
    const chain = createChain(
      {
        cniVersion: '1.0.0',
        name: 'test',
        plugins: [{ type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', dataDir: netns.dir, subnet: '10.1.0.0/24' } }],
      },
      { runner: execRunner('/usr/lib/cni'), netns: netns.container, hostNetns: netns.host },
    );
    await chain.add();
    expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.1.0.2/24']);
    expect((await readLink(netns.host, 'cni0'))?.linkinfo?.info_kind).toBe('bridge');
    await chain.del();
    await netns.expectNoLeaks(before, { ignore: ['cni0'] }); // the bridge stays, as upstream leaves it
  });
});
