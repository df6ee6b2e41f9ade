// SPDX-License-Identifier: Apache-2.0
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RawExec } from '@cni/libcni';
import { runPlugin } from '@cni/skel';
import { readAddressList, readLink, readLinks, useTestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { createMultinet } from './multinet.ts';

// ipvlan exists only as a module of the VM tier's kernel: the users' ipvlan example, as written.
// Debian's Go plugins first: under TCG a node start costs about a second, and what is tested here is
// multinet (our ipvlan has its own VM tests); the bundle is the fallback.
const bundleBin = new URL('../../../apps/cni-bundle/dist/bin', import.meta.url).pathname;
const cniPath = ['/usr/lib/cni', ...(existsSync(bundleBin) ? [bundleBin] : [])];

describe.skipIf(process.getuid?.() !== 0)('the users\' ipvlan example', () => {
  it('attaches net1 from the ipvlan0 NAD on master eth1000 with its static address', async () => {
    const version = '1.1.0';
    const netns = await useTestNetns();
    await netns.execHost(['ip', 'link', 'add', 'eth1000', 'type', 'dummy']);
    await netns.execHost(['ip', 'link', 'set', 'eth1000', 'up']);
    const nadDir = join(netns.dir, 'nads');
    mkdirSync(nadDir);
    copyFileSync(new URL('./__fixtures__/ipvlan0.yaml', import.meta.url), join(nadDir, 'ipvlan0.yaml'));
    const conf = {
      cniVersion: version,
      name: 'multinet',
      type: 'multinet',
      nadDir,
      cniDir: join(netns.dir, 'multinet'),
      binDir: cniPath[0],
      delegates: [{ cniVersion: '1.0.0', name: 'pods', type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.88.0.0/24', dataDir: join(netns.dir, 'ipam') } }],
      runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': '[ { "name": "ipvlan0" } ]' } },
    };
    const plugin = createMultinet({ exec: new RawExec({ wrapper: ['ip', 'netns', 'exec', netns.host.name], stderr: null }) });
    const run = async (command: string) => {
      let stdout = '';
      const code = await runPlugin(plugin, {
        env: {
          CNI_COMMAND: command,
          CNI_CONTAINERID: 'ipvlan-example',
          CNI_NETNS: netns.container.path,
          CNI_IFNAME: 'eth0',
          CNI_PATH: cniPath.join(':'),
          CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a',
        },
        stdin: JSON.stringify(conf),
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
      });
      return { code, out: stdout === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>) };
    };
    const added = await run('ADD');
    expect(added.out.msg).toBeUndefined();
    expect(added.code).toBe(0);
    const net1 = await readLink(netns.container, 'net1');
    expect(net1?.linkinfo?.info_kind).toBe('ipvlan');
    expect(net1?.linkinfo?.info_data).toMatchObject({ mode: 'l2' });
    expect(await readAddressList(netns.container, 'net1', 4)).toEqual(['10.10.10.2/24']);
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.88.0.2/24']);
    expect((await run('CHECK')).code).toBe(0);
    expect((await run('DEL')).code).toBe(0);
    expect((await readLinks(netns.container)).map((link) => link.ifname)).toEqual(['lo']);
  });
});
