// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addVethPair, execPlugin, pluginEnv, readAddressList, readLink, readLinks, run, setLinkUp, useTestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';

// The bundle's executable as a runtime runs it: env -i with the CNI variables, config on stdin, inside
// the test's host namespace. Debian's Go plugins are the delegates, so what is measured is multinet.
const multinetBin = process.env.MULTINET_BIN ?? new URL('../../../apps/cni-bundle/dist/bin/multinet', import.meta.url).pathname;

describe.skipIf(process.getuid?.() !== 0)('the multinet executable', () => {
  it('runs delegates that are ours in its own process: no bridge, macvlan or host-local process is started', async () => {
    const ours = dirname(multinetBin);
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'mv0' }, { ns: netns.host, name: 'mv0p' });
    await setLinkUp(netns.host, 'mv0');
    const nadDir = join(netns.dir, 'nads');
    mkdirSync(nadDir);
    const ipam = (subnet: string) => ({ type: 'host-local', subnet, dataDir: join(netns.dir, 'ipam') });
    writeFileSync(join(nadDir, 'side.json'), JSON.stringify({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'side', namespace: 'web' },
      spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: 'mv0', ipam: ipam('10.62.0.0/24') }) },
    }));
    const conf = {
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      nadDir,
      cniDir: join(netns.dir, 'multinet'),
      binDir: ours,
      delegates: [{ cniVersion: '1.0.0', name: 'pods', type: 'bridge', bridge: 'cni1', ipam: ipam('10.63.0.0/24') }],
      runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'side@side0' } },
    };
    const options = { netns: netns.container, cniPath: ours, conf, args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=p' };
    // strace is the oracle of which programs ran: the launcher, which becomes the runtime, and nothing else.
    const traced = async (command: 'ADD' | 'DEL') => {
      const trace = join(netns.dir, `${command}.trace`);
      const out = await run(['ip', 'netns', 'exec', netns.host.name, 'strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', trace, multinetBin], {
        env: pluginEnv({ ...options, command }),
        input: JSON.stringify(conf),
        allowFailure: true,
      });
      expect(out.exitCode, out.stdout + out.stderr).toBe(0);
      const programs = readFileSync(trace, 'utf8').split('\n').flatMap((line) => /execve\("([^"]+)"/.exec(line)?.[1] ?? []);
      expect(programs.map((file) => file.split('/').pop())).toEqual(['multinet', 'node']);
      return out.stdout;
    };
    expect(JSON.parse(await traced('ADD'))).toMatchObject({ ips: [{ address: '10.63.0.2/24' }] });
    expect(await readAddressList(netns.container, 'side0', 4)).toEqual(['10.62.0.2/24']);
    await traced('DEL');
    expect((await readLinks(netns.container)).map((link) => link.ifname)).toEqual(['lo']);
  });

  it('attaches a bridge default network and a macvlan NAD from a manifest folder, checks and deletes them', async () => {
    if (!existsSync(multinetBin)) throw new Error(`"${multinetBin}" is missing: run \`pnpm build\` in apps/cni-bundle first`);
    const netns = await useTestNetns();
    await addVethPair({ ns: netns.host, name: 'mv0' }, { ns: netns.host, name: 'mv0p' });
    await setLinkUp(netns.host, 'mv0');
    const nadDir = join(netns.dir, 'nads');
    mkdirSync(nadDir);
    const ipam = (subnet: string) => ({ type: 'host-local', subnet, dataDir: join(netns.dir, 'ipam') });
    writeFileSync(join(nadDir, 'side.json'), JSON.stringify({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'side', namespace: 'web' },
      spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: 'mv0', ipam: ipam('10.61.0.0/24') }) },
    }));
    const conf = {
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      nadDir,
      cniDir: join(netns.dir, 'multinet'),
      binDir: '/usr/lib/cni',
      delegates: [{ cniVersion: '1.0.0', name: 'pods', type: 'bridge', bridge: 'cni0', ipam: ipam('10.60.0.0/24') }],
      runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'side@side0' } },
    };
    const options = { netns: netns.container, hostNetns: netns.host, cniPath: '/usr/lib/cni', conf, args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=p' };
    const added = await execPlugin(multinetBin, { ...options, command: 'ADD' });
    expect(added.error).toBeUndefined();
    expect(added.exitCode).toBe(0);
    expect(added.result).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.60.0.2/24' }] });
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.60.0.2/24']);
    expect(await readAddressList(netns.container, 'side0', 4)).toEqual(['10.61.0.2/24']);
    expect((await readLink(netns.container, 'side0'))?.linkinfo?.info_kind).toBe('macvlan');
    expect((await execPlugin(multinetBin, { ...options, command: 'CHECK' })).exitCode).toBe(0);
    const deleted = await execPlugin(multinetBin, { ...options, command: 'DEL' });
    expect(deleted.error).toBeUndefined();
    expect((await readLinks(netns.container)).map((link) => link.ifname)).toEqual(['lo']);
  });
});
