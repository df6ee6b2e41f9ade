// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawExec } from '@cni/libcni';
import { runPlugin } from '@cni/skel';
import { addVethPair, exec, readAddressList, readIptablesSave, readLink, readLinks, readRoutes, setLinkUp, tcJson, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMultinet, type MultinetOptions } from './multinet.ts';
import { startKubeServer, type KubeServer } from './testing/kube-server.ts';

const TCP = new URL('./__fixtures__/tcp.mjs', import.meta.url).pathname;

/** Ours when the bundle is built, Debian's Go reference otherwise (and for what ours lacks). */
const bundleBin = new URL('../../../apps/cni-bundle/dist/bin', import.meta.url).pathname;
const cniPath = [...(existsSync(join(bundleBin, 'bridge')) ? [bundleBin] : []), '/usr/lib/cni'];

interface Setup {
  netns: TestNetns;
  server: KubeServer;
  kubeconfig: string;
  conf: Record<string, unknown>;
  /** Runs multinet for pod `web/pod-a`, or for `pod` (`namespace/name`, added to the API by the caller). */
  run(command: string, extra?: Record<string, unknown>, pod?: string): Promise<{ code: number; out: Record<string, unknown> }>;
}

/**
 * A test host with a macvlan master (a veth in the host namespace), an API server with the pod
 * and its NADs, and multinet run in this process with its delegates run inside the host
 * namespace, so every bridge, veth and lease is the test's.
 */
async function setup(annotations: Record<string, string>, options: Pick<MultinetOptions, 'readinessTimeoutMs'> = {}): Promise<Setup> {
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
  const plugin = createMultinet({ exec: new RawExec({ wrapper: ['ip', 'netns', 'exec', netns.host.name], stderr: null }), ...options });
  const run = async (command: string, extra: Record<string, unknown> = {}, pod = 'web/pod-a') => {
    const [podNamespace, podName] = pod.split('/');
    let stdout = '';
    const code = await runPlugin(plugin, {
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: `${podName}-sandbox`,
        CNI_NETNS: netns.container.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: cniPath.join(':'),
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${podNamespace};K8S_POD_NAME=${podName};K8S_POD_UID=uid-${podName}`,
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

  it('runs per-attachment portMappings and bandwidth through the real portmap and bandwidth on the second interface', async () => {
    const limits = { ingressRate: 4_000_000, ingressBurst: 80_000, egressRate: 4_000_000, egressBurst: 80_000 };
    const { netns, server, run } = await setup({
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([
        { name: 'shaped-net', portMappings: [{ hostPort: 8082, containerPort: 8080, protocol: 'tcp' }], bandwidth: limits },
      ]),
    });
    const ipam = { type: 'host-local', subnet: '10.60.0.0/24', dataDir: join(netns.dir, 'ipam') };
    server.addNad('web', 'shaped-net', JSON.stringify({
      cniVersion: '1.0.0',
      plugins: [
        { type: 'bridge', bridge: 'br-shaped', isGateway: true, ipam },
        { type: 'portmap', capabilities: { portMappings: true }, snat: false },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    }));
    const { code, out } = await run('ADD');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    expect(await readAddressList(netns.container, 'net1', 4)).toEqual(['10.60.0.2/24']);
    // portmap's DNAT names the pod's second interface; the default network got no mapping.
    const nat = await readIptablesSave(netns.host, { table: 'nat' });
    expect(nat).toMatch(/--dport 8082 .*--to-destination 10\.60\.0\.2:8080/);
    expect(nat).not.toContain('10.10.0.2');

    // A server on the pod's net1 address, reached through the host port from the host namespace.
    const server8080 = spawn('ip', ['netns', 'exec', netns.container.name, process.execPath, TCP, 'serve', '10.60.0.2', '8080', 'hello over net1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    onTestFinished(() => {
      server8080.kill('SIGKILL');
    });
    await new Promise((ready) => server8080.stdout.once('data', ready));
    const got = await exec(netns.host, [process.execPath, TCP, 'get', '10.60.0.1', '8082']);
    expect(got.stdout).toBe('hello over net1');

    // bandwidth shaped the host side of net1 (a tbf at the ingress rate), and a stream to the pod gets no more.
    const bridgePort = (await readLinks(netns.host)).find((link) => link.master === 'br-shaped' && link.linkinfo?.info_kind === 'veth')!.ifname;
    const qdiscs = await tcJson<{ kind: string; options?: { rate?: number } }[]>(netns.host, ['qdisc', 'show', 'dev', bridgePort]);
    expect(qdiscs.find((qdisc) => qdisc.kind === 'tbf')?.options?.rate).toBe(limits.ingressRate / 8);
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const received = exec(netns.container, [process.execPath, TCP, 'recv', '10.60.0.2', port, '1500']);
    const sent = exec(netns.host, [process.execPath, TCP, 'send', '10.60.0.2', port]);
    const [measured] = await Promise.all([received, sent]);
    const bitsPerSecond = (JSON.parse(measured.stdout) as { bitsPerSecond: number }).bitsPerSecond;
    // Upper bound only: a busy machine can only make it slower.
    expect(bitsPerSecond).toBeLessThanOrEqual(1.5 * limits.ingressRate);
    expect(bitsPerSecond).toBeGreaterThan(0);

    expect((await run('DEL')).code).toBe(0);
    expect(await readIptablesSave(netns.host, { table: 'nat' })).not.toContain('10.60.0.2');
    expect((await readLinks(netns.host)).filter((link) => link.linkinfo?.info_kind === 'ifb')).toEqual([]);
    expect(leases(netns)).toEqual([]);
  });

  it('replaces the default network with the default-network annotation', async () => {
    const { netns, run } = await setup({ 'v1.multus-cni.io/default-network': 'web/bridge-net', 'k8s.v1.cni.cncf.io/networks': 'macvlan-net' });
    const { code, out } = await run('ADD');
    expect(out.msg).toBeUndefined();
    expect(code).toBe(0);
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.30.0.2/24']);
    expect(await readAddressList(netns.container, 'net1', 4)).toEqual(['10.20.0.2/24']);
    expect(out).toMatchObject({ ips: [{ address: '10.30.0.2/24' }] });
    expect(leases(netns).filter((lease) => lease.includes('10.10.0.'))).toEqual([]);
    expect((await run('DEL')).code).toBe(0);
    expect(await containerLinks(netns)).toEqual([]);
  });

  it('adds defaultNetworks to every pod except those of systemNamespaces', async () => {
    const { netns, server, run } = await setup({});
    server.addNad('kube-system', 'monitoring', JSON.stringify({ cniVersion: '1.0.0', type: 'bridge', bridge: 'br-mon', ipam: { type: 'host-local', subnet: '10.70.0.0/24', dataDir: join(netns.dir, 'ipam') } }));
    server.addPod('kube-system', 'coredns', {});
    const extra = { defaultNetworks: ['monitoring'], systemNamespaces: ['kube-system'] };
    expect((await run('ADD', extra)).code).toBe(0);
    expect(await containerLinks(netns)).toEqual(['eth0', 'net1']);
    expect(await readAddressList(netns.container, 'net1', 4)).toEqual(['10.70.0.2/24']);
    expect((await run('DEL', extra)).code).toBe(0);
    expect(await containerLinks(netns)).toEqual([]);
    // A system pod: the default network only.
    const system = await run('ADD', extra, 'kube-system/coredns');
    expect(system.out.msg).toBeUndefined();
    expect(await containerLinks(netns)).toEqual(['eth0']);
    expect((await run('DEL', extra, 'kube-system/coredns')).code).toBe(0);
    expect(leases(netns)).toEqual([]);
  });

  it('refuses another namespace\'s NAD under namespaceIsolation, before attaching anything', async () => {
    const { netns, server, run } = await setup({ 'k8s.v1.cni.cncf.io/networks': 'macvlan-net,other/foreign' });
    server.addNad('other', 'foreign', JSON.stringify({ cniVersion: '1.0.0', type: 'bridge', bridge: 'br-foreign', ipam: { type: 'host-local', subnet: '10.80.0.0/24', dataDir: join(netns.dir, 'ipam') } }));
    const { code, out } = await run('ADD', { namespaceIsolation: true });
    expect(code).toBe(1);
    expect(out).toMatchObject({ code: 7, msg: expect.stringContaining('may not use network "other/foreign": namespaceIsolation') });
    expect(await containerLinks(netns)).toEqual([]);
    expect(leases(netns)).toEqual([]);
    // As a global namespace it is allowed.
    expect((await run('ADD', { namespaceIsolation: true, globalNamespaces: 'default,other' })).code).toBe(0);
    expect(await containerLinks(netns)).toEqual(['eth0', 'net1', 'net2']);
    expect((await run('DEL', { namespaceIsolation: true, globalNamespaces: 'default,other' })).code).toBe(0);
  });

  it('waits for the readiness indicator file: ADD fails with 11 and STATUS with 50 until it exists', async () => {
    const { netns, run } = await setup({ 'k8s.v1.cni.cncf.io/networks': 'macvlan-net' }, { readinessTimeoutMs: 300 });
    const file = join(netns.dir, 'ready');
    const extra = { readinessindicatorfile: file };
    const waiting = await run('ADD', extra);
    expect(waiting.code).toBe(1);
    expect(waiting.out).toMatchObject({ code: 11, msg: expect.stringContaining(`readiness indicator file "${file}" does not exist`) });
    expect(await containerLinks(netns)).toEqual([]);
    // STATUS exists from CNI 1.1.0.
    expect((await run('STATUS', { ...extra, cniVersion: '1.1.0' })).out).toMatchObject({ code: 50 });
    writeFileSync(file, '');
    expect((await run('STATUS', { ...extra, cniVersion: '1.1.0' })).code).toBe(0);
    expect((await run('ADD', extra)).code).toBe(0);
    expect(await containerLinks(netns)).toEqual(['eth0', 'net1']);
    expect((await run('DEL', extra)).code).toBe(0);
  });
});
