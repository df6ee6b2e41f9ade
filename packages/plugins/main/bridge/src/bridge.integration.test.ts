// SPDX-License-Identifier: Apache-2.0
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import { execPlugin, readAddressList, readLink, readLinks, readRoutes, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { MAC, STAYS, leases, netConf, bridgeRunner } from './__tests__/helpers.ts';

const runBridge = bridgeRunner(execPlugin);

function expectResultShape(version: string, result: unknown, netns: TestNetns): void {
  if (version === '0.1.0' || version === '0.2.0') {
    expect(result).toEqual({ cniVersion: version, ip4: { ip: '10.88.0.2/24', gateway: '10.88.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }] }, dns: {} });
    return;
  }
  const legacy = version.startsWith('0.');
  expect(result).toEqual({
    cniVersion: version,
    interfaces: [
      { name: 'cni0', mac: expect.stringMatching(MAC) },
      { name: expect.stringMatching(/^veth[0-9a-f]{8}$/), mac: expect.stringMatching(MAC) },
      { name: 'eth0', mac: expect.stringMatching(MAC), sandbox: netns.container.path },
    ],
    ips: [{ ...(legacy ? { version: '4' } : {}), interface: 2, address: '10.88.0.2/24', gateway: '10.88.0.1' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
    ...(legacy ? { dns: {} } : {}),
  });
}

describe.skipIf(process.getuid?.() !== 0)('bridge on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] bridge', (version) => {
    it('attaches a container as the default gateway, checks it and detaches it (built executable)', async () => {
      const netns = await useTestNetns();
      const before = await netns.snapshot();
      const conf = netConf(netns, version, { isDefaultGateway: true });
      const added = await runBridge(netns, { command: 'ADD', conf });
      expect(added.error).toBeUndefined();
      expectResultShape(version, added.result, netns);

      const cni0 = await readLink(netns.host, 'cni0');
      expect(cni0?.linkinfo?.info_kind).toBe('bridge');
      expect(await readAddressList(netns.host, 'cni0', 4)).toEqual(['10.88.0.1/24']);
      const port = (await readLinks(netns.host)).find((link) => link.ifname.startsWith('veth'))!;
      expect(port).toMatchObject({ master: 'cni0', operstate: 'UP' });
      expect(await readAddressList(netns.container, 'eth0')).toEqual(['10.88.0.2/24']);
      expect((await readRoutes(netns.container, { family: 4 })).map(({ dst, gateway }) => ({ dst, gateway }))).toEqual([
        { dst: 'default', gateway: '10.88.0.1' },
        { dst: '10.88.0.0/24', gateway: undefined },
      ]);
      await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);

      if (specVersionHas('check', version)) {
        expect((await runBridge(netns, { command: 'CHECK', conf: { ...conf, prevResult: added.result } })).error).toBeUndefined();
      }
      expect((await runBridge(netns, { command: 'DEL', conf: { ...conf, prevResult: added.result } })).error).toBeUndefined();
      expect(await readLink(netns.container, 'eth0')).toBeUndefined();
      expect((await readLinks(netns.host)).filter((link) => link.ifname.startsWith('veth'))).toEqual([]);
      expect(leases(netns)).toEqual([]);
      expect((await runBridge(netns, { command: 'DEL', conf })).error).toBeUndefined();
      await netns.expectNoLeaks(before, { ignore: STAYS });
    });
  });

  it('lets two pods ping each other and the gateway', async () => {
    const netns = await useTestNetns();
    const second = await useTestNetns({ leakCheck: false });
    const conf = netConf(netns, '1.1.0', { isGateway: true });
    expect((await runBridge(netns, { command: 'ADD', containerId: 'pod1', conf })).error).toBeUndefined();
    expect((await runBridge(netns, { command: 'ADD', containerId: 'pod2', container: second.container, conf })).error).toBeUndefined();
    expect(await readAddressList(second.container, 'eth0')).toEqual(['10.88.0.3/24']);
    await netns.execContainer(['ping', '-c1', '-W2', '10.88.0.3']);
    await second.execContainer(['ping', '-c1', '-W2', '10.88.0.2']);
    await second.execContainer(['ping', '-c1', '-W2', '10.88.0.1']);
  });
});
