// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RawExec } from '@cni/libcni';
import { runPlugin } from '@cni/skel';
import { addVethPair, readAddressList, readLink, readLinks, readRoutes, setLinkUp, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMultinet } from './multinet.ts';
import { startKubeServer, type KubeServer } from './testing/kube-server.ts';

/** Ours when the bundle is built, Debian's Go reference otherwise (and for what ours lacks). */
const bundleBin = new URL('../../../apps/cni-bundle/dist/bin', import.meta.url).pathname;
const cniPath = [...(existsSync(join(bundleBin, 'bridge')) ? [bundleBin] : []), '/usr/lib/cni'];

interface Setup {
  netns: TestNetns;
  server: KubeServer;
  kubeconfig: string;
  conf: Record<string, unknown>;
  run(command: string, extra?: Record<string, unknown>): Promise<{ code: number; out: Record<string, unknown> }>;
}

/**
 * A test host with a macvlan master (a veth in the host namespace), an API server with the pod
 * and its NADs, and multinet run in this process with its delegates run inside the host
 * namespace, so every bridge, veth and lease is the test's.
 */
async function setup(annotations: Record<string, string>): Promise<Setup> {
  const netns = await useTestNetns();
  await addVethPair({ ns: netns.host, name: 'mv0' }, { ns: netns.host, name: 'mv0p' });
  await setLinkUp(netns.host, 'mv0');
  await setLinkUp(netns.host, 'mv0p');
  const server = await startKubeServer();
  onTestFinished(() => server.close());
  const kubeconfig = server.writeKubeconfig(netns.dir);
  const ipam = (subnet: string) => ({ type: 'host-local', subnet, dataDir: join(netns.dir, 'ipam') });
  server.addNad('kube-system', 'cluster', JSON.stringify({
    cniVersion: '1.0.0', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, ipam: ipam('10.10.0.0/24'),
  }));
  server.addNad('web', 'macvlan-net', JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: 'mv0', mode: 'bridge', ipam: ipam('10.20.0.0/24') }));
  server.addNad('web', 'bridge-net', JSON.stringify({ cniVersion: '0.4.0', type: 'bridge', bridge: 'br-data', isGateway: true, ipam: ipam('10.30.0.0/24') }));
  server.addNad('web', 'macvlan-static', JSON.stringify({
    cniVersion: '1.0.0', type: 'macvlan', master: 'mv0', capabilities: { ips: true, mac: true }, ipam: { type: 'static' },
  }));
  server.addNad('web', 'broken-net', JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: 'no-such-master', ipam: ipam('10.50.0.0/24') }));
  server.addPod('web', 'pod-a', annotations);
  const conf = {
    cniVersion: '1.0.0',
    name: 'multinet-network',
    type: 'multinet',
    kubeconfig,
    clusterNetwork: 'cluster',
    cniDir: join(netns.dir, 'multinet'),
    confDir: join(netns.dir, 'net.d'),
    binDir: cniPath[0],
  };
  const plugin = createMultinet({ exec: new RawExec({ wrapper: ['ip', 'netns', 'exec', netns.host.name], stderr: null }) });
  const run = async (command: string, extra: Record<string, unknown> = {}) => {
    let stdout = '';
    const code = await runPlugin(plugin, {
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: 'pod-a-sandbox',
        CNI_NETNS: netns.container.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: cniPath.join(':'),
        CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=pod-a;K8S_POD_UID=uid-pod-a',
      },
      stdin: JSON.stringify({ ...conf, ...extra }),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
    });
    return { code, out: stdout === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>) };
  };
  return { netns, server, kubeconfig, conf, run };
}

/** The container's interfaces other than lo. */
async function containerLinks(netns: TestNetns): Promise<string[]> {
  return (await readLinks(netns.container)).map((link) => link.ifname).filter((name) => name !== 'lo').sort();
}

/** Leases host-local still holds, per network. */
function leases(netns: TestNetns): string[] {
  const dir = join(netns.dir, 'ipam');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((network) =>
    readdirSync(join(dir, network)).filter((name) => /^\d+\.\d+\.\d+\.\d+$/u.test(name)).map((ip) => `${network}/${ip}`),
  );
}

describe.skipIf(process.getuid?.() !== 0)('multinet with real plugins', () => {
  it('gives a pod eth0 on the bridge default network, net1 on a macvlan NAD and net2 on a bridge NAD', async () => {
    const { netns, server, run } = await setup({ 'k8s.v1.cni.cncf.io/networks': 'macvlan-net,bridge-net' });
    const { code, out } = await run('ADD');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    expect(await containerLinks(netns)).toEqual(['eth0', 'net1', 'net2']);
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.10.0.2/24']);
    expect(await readAddressList(netns.container, 'net1', 4)).toEqual(['10.20.0.2/24']);
    expect(await readAddressList(netns.container, 'net2', 4)).toEqual(['10.30.0.2/24']);
    expect((await readLink(netns.container, 'net1'))?.linkinfo?.info_kind).toBe('macvlan');
    expect((await readLink(netns.container, 'net2'))?.linkinfo?.info_kind).toBe('veth');
    // The default route stays with the default network.
    const defaults = (await readRoutes(netns.container, { family: 4 })).filter((route) => route.dst === 'default');
    expect(defaults.map((route) => `${route.gateway} ${route.dev}`)).toEqual(['10.10.0.1 eth0']);
    expect(out).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.10.0.2/24', gateway: '10.10.0.1' }] });

    // The status annotation, written once with a merge patch of that annotation alone.
    expect(server.patches).toHaveLength(1);
    const patch = JSON.parse(server.patches[0]!.body) as { metadata: { annotations: Record<string, string> } };
    expect(Object.keys(patch)).toEqual(['metadata']);
    expect(Object.keys(patch.metadata.annotations)).toEqual(['k8s.v1.cni.cncf.io/network-status']);
    const status = JSON.parse(patch.metadata.annotations['k8s.v1.cni.cncf.io/network-status']!) as Record<string, unknown>[];
    const macs = await Promise.all(['eth0', 'net1', 'net2'].map(async (name) => (await readLink(netns.container, name))?.address));
    expect(status).toEqual([
      { name: 'kube-system/cluster', interface: 'eth0', ips: ['10.10.0.2'], mac: macs[0], default: true },
      { name: 'web/macvlan-net', interface: 'net1', ips: ['10.20.0.2'], mac: macs[1], default: false },
      { name: 'web/bridge-net', interface: 'net2', ips: ['10.30.0.2'], mac: macs[2], default: false },
    ]);

    expect((await run('CHECK')).code).toBe(0);
    expect((await run('DEL')).code).toBe(0);
    expect(await containerLinks(netns)).toEqual([]);
    expect(leases(netns)).toEqual([]);
  });

  it('honours per-attachment ips and mac', async () => {
    const { netns, run } = await setup({
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan-static', interface: 'data0', ips: ['10.40.0.7/24'], mac: '02:11:22:33:44:55' }]),
    });
    const { code, out } = await run('ADD');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    expect(await readAddressList(netns.container, 'data0', 4)).toEqual(['10.40.0.7/24']);
    expect((await readLink(netns.container, 'data0'))?.address).toBe('02:11:22:33:44:55');
    expect((await run('DEL')).code).toBe(0);
    expect(await containerLinks(netns)).toEqual([]);
  });

  it('leaves nothing of the first two attachments when the third fails', async () => {
    const { netns, server, run } = await setup({ 'k8s.v1.cni.cncf.io/networks': 'macvlan-net,broken-net' });
    const hostBefore = (await readLinks(netns.host)).map((link) => link.ifname).sort();
    const { code, out } = await run('ADD');
    expect(code).toBe(1);
    expect(String(out.msg)).toMatch(/^failed to add network "web\/broken-net" as "net2": plugin type="macvlan" name="broken-net" failed \(add\): /u);
    expect(await containerLinks(netns)).toEqual([]);
    expect(leases(netns)).toEqual([]);
    // The default network's veth is gone from the host; its bridge stays, as the bridge plugin leaves it.
    const hostAfter = (await readLinks(netns.host)).map((link) => link.ifname).sort();
    expect(hostAfter.filter((name) => !hostBefore.includes(name))).toEqual(['cni0']);
    expect(existsSync(join(netns.dir, 'multinet', 'attachments', 'pod-a-sandbox'))).toBe(false);
    expect(server.patches).toEqual([]);
  });

  it('cleans up from its cache on DEL when the API server is gone', async () => {
    const { netns, server, run } = await setup({ 'k8s.v1.cni.cncf.io/networks': 'macvlan-net,bridge-net' });
    expect((await run('ADD')).code).toBe(0);
    expect(await containerLinks(netns)).toEqual(['eth0', 'net1', 'net2']);
    await server.close();
    const { code, out } = await run('DEL');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    expect(await containerLinks(netns)).toEqual([]);
    expect(leases(netns)).toEqual([]);
    expect(readdirSync(join(netns.dir, 'multinet', 'results'))).toEqual([]);
  });

  it('moves the default route to the attachment that asks for it', async () => {
    const { netns, run } = await setup({
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'macvlan-net' }, { name: 'bridge-net', 'default-route': ['10.30.0.1'] }]),
    });
    const { code, out } = await run('ADD');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    const defaults = (await readRoutes(netns.container, { family: 4 })).filter((route) => route.dst === 'default');
    expect(defaults.map((route) => `${route.gateway} ${route.dev}`)).toEqual(['10.30.0.1 net2']);
    // The default network's result, returned to the runtime, no longer claims the default route.
    expect((out.routes as { dst: string }[] | undefined) ?? []).not.toContainEqual(expect.objectContaining({ dst: '0.0.0.0/0' }));
    // The cached results follow the move, so CHECK agrees with the namespace.
    const checked = await run('CHECK');
    expect(checked.out.msg).toBeUndefined();
    expect(checked.code).toBe(0);
    expect((await run('DEL')).code).toBe(0);
  });
});
