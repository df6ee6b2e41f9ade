// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nadYaml } from './containerd/config.ts';
import { ContainerdSandbox } from './containerd/sandbox.ts';
import { havePrograms, runCommand } from './podman/sandbox.ts';

// multinet under a real Kubernetes runtime: Debian's containerd 1.6 and its CRI plugin, driven
// over CRI gRPC as kubelet drives it (RunPodSandbox, PodSandboxStatus, StopPodSandbox,
// RemovePodSandbox), with multinet as its only CNI configuration and NADs from a folder of
// manifests written as users write them. docs/containerd.md says how to set this up by hand.

const binDir = resolve(process.env['CNI_BUNDLE_BIN'] ?? new URL('../dist/bin/', import.meta.url).pathname);
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

const canRun = process.getuid?.() === 0 && havePrograms('containerd', 'ctr', 'runc', 'nsenter', 'unshare', 'setpriv', 'ping');

interface Link {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

describe.skipIf(!canRun)('multinet under containerd 1.6 CRI', () => {
  let sandbox: ContainerdSandbox;
  let dir = '';
  const ipam = () => join(dir, 'ipam');
  const pods: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(binDir, 'multinet'))) throw new Error(`"${join(binDir, 'multinet')}" is missing: run \`pnpm --filter @cni/cni-bundle build\` first`);
    sandbox = await ContainerdSandbox.start({
      binDir,
      tag: String(process.pid),
      conflist: (base) => {
        dir = base;
        const nads = join(base, 'nads');
        mkdirSync(nads, { recursive: true });
        const hostLocal = (subnet: string, extra: Record<string, unknown> = {}) => ({ type: 'host-local', ranges: [[{ subnet, ...extra }]], dataDir: join(base, 'ipam') });
        writeFileSync(join(nads, 'bridge-net.yaml'), nadYaml('bridge-net', 'web', { cniVersion: '1.0.0', type: 'bridge', bridge: 'br-data', isGateway: true, ipam: hostLocal('10.30.0.0/24') }));
        writeFileSync(join(nads, 'macvlan-net.yaml'), nadYaml('macvlan-net', 'web', { cniVersion: '1.0.0', type: 'macvlan', master: 'lan0', mode: 'bridge', ipam: hostLocal('10.40.0.0/24', { rangeStart: '10.40.0.10', rangeEnd: '10.40.0.99' }) }));
        // Another namespace's NAD, in a file with a Pod and a CRD-like object beside it.
        writeFileSync(join(nads, 'other.yaml'), `${nadYaml('shared', 'other', { cniVersion: '0.4.0', type: 'bridge', bridge: 'br-shared', isGateway: true, ipam: hostLocal('10.50.0.0/24') })}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: not-a-nad\nspec:\n  containers: []\n`);
        writeFileSync(join(nads, 'missing-plugin.yaml'), nadYaml('missing-plugin', 'web', { cniVersion: '1.0.0', type: 'no-such-plugin' }));
        // A file kubectl would refuse too: it costs its own NAD only.
        writeFileSync(join(nads, 'zz-broken.yaml'), 'apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: broken\n  namespace: web\nspec:\n  config: {"type": "bridge"\n');
        return {
          cniVersion: '1.0.0',
          name: 'multinet-cri',
          plugins: [
            {
              type: 'multinet',
              // What makes containerd hand the pod's annotations to the plugin (runtimeConfig).
              capabilities: { 'io.kubernetes.cri.pod-annotations': true },
              cniDir: join(base, 'multinet'),
              confDir: join(base, 'multinet-net.d'),
              binDir,
              nadDir: nads,
              logFile: join(base, 'cni.log'),
              delegates: [
                { cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, ipam: hostLocal('10.88.0.0/24') }] },
              ],
            },
          ],
        };
      },
    });
  }, 90_000);

  afterAll(async () => {
    await sandbox?.close();
  }, 60_000);

  const podConfig = (name: string, annotations: Record<string, string>) => ({
    metadata: { name, namespace: 'web', uid: `uid-${name}-${process.pid}`, attempt: 0 },
    hostname: name,
    annotations,
    linux: { cgroupParent: sandbox.cgroupParent },
  });

  async function podLinks(id: string): Promise<{ pid: string; links: Map<string, string> }> {
    const status = await sandbox.cri.podSandboxStatus(id);
    const pid = String((JSON.parse(status.info['info'] ?? '{}') as { pid?: number }).pid);
    const out = await runCommand('nsenter', ['-t', pid, '-n', 'ip', '-j', 'addr', 'show']);
    expect(out.status, out.stderr).toBe(0);
    const links = new Map<string, string>();
    for (const link of JSON.parse(out.stdout) as Link[]) {
      const v4 = link.addr_info.find((a) => a.family === 'inet');
      if (link.ifname !== 'lo' && v4) links.set(link.ifname, `${v4.local}/${v4.prefixlen}`);
    }
    return { pid, links };
  }

  async function ping(pid: string, address: string): Promise<void> {
    const out = await runCommand('nsenter', ['-t', pid, '-n', 'ping', '-c', '1', '-W', '2', address]);
    expect(out.status, `ping ${address} from pod ${pid}: ${out.stdout}${out.stderr}`).toBe(0);
  }

  it('containerd serves CRI runtime.v1', async () => {
    const version = await sandbox.cri.version();
    expect(version.runtimeName).toBe('containerd');
    expect(version.runtimeApiVersion).toBe('v1');
  });

  it('a pod annotated name,name,ns/name gets eth0 plus one interface per NAD, and the CRI pod IP is eth0s', async () => {
    const id = await sandbox.cri.runPodSandbox(podConfig('pod-a', { [NETWORKS]: 'bridge-net,macvlan-net,other/shared' }));
    pods.push(id);
    const status = await sandbox.cri.podSandboxStatus(id);
    expect(status.status.state).toBe('SANDBOX_READY');
    const { pid, links } = await podLinks(id);
    expect([...links.keys()].sort()).toEqual(['eth0', 'net1', 'net2', 'net3']);
    expect(links.get('eth0')).toMatch(/^10\.88\.0\.\d+\/24$/);
    expect(links.get('net1')).toMatch(/^10\.30\.0\.\d+\/24$/);
    expect(links.get('net2')).toMatch(/^10\.40\.0\.\d+\/24$/);
    expect(links.get('net3')).toMatch(/^10\.50\.0\.\d+\/24$/);
    expect(status.status.network?.ip).toBe(links.get('eth0')!.split('/')[0]);
    // Traffic over each network: the bridges' gateways, the LAN peer through macvlan.
    await ping(pid, '10.88.0.1');
    await ping(pid, '10.30.0.1');
    await ping(pid, ContainerdSandbox.LAN_PEER);
    await ping(pid, '10.50.0.1');
  });

  it('a pod annotated with the JSON form gets its named interfaces', async () => {
    const id = await sandbox.cri.runPodSandbox(
      podConfig('pod-b', { [NETWORKS]: JSON.stringify([{ name: 'shared', namespace: 'other', interface: 'shared0' }, { name: 'bridge-net' }]) }),
    );
    pods.push(id);
    const { pid, links } = await podLinks(id);
    expect([...links.keys()].sort()).toEqual(['eth0', 'net2', 'shared0']);
    await ping(pid, '10.50.0.1');
    await ping(pid, '10.30.0.1');
  });

  it('a pod whose NAD names a plugin that is not installed, or sits in a broken file, fails RunPodSandbox and leaves nothing', async () => {
    const before = await sandbox.podNetns();
    const leases = () => readdirSync(ipam(), { recursive: true }).filter((name) => /\d+\.\d+\.\d+\.\d+$/.test(String(name))).length;
    const leasesBefore = leases();
    await expect(sandbox.cri.runPodSandbox(podConfig('pod-c', { [NETWORKS]: 'bridge-net,missing-plugin' }))).rejects.toThrow(
      /plugin "no-such-plugin" is not installed/,
    );
    await expect(sandbox.cri.runPodSandbox(podConfig('pod-d', { [NETWORKS]: 'broken' }))).rejects.toThrow(
      new RegExp(`NetworkAttachmentDefinition "web/broken" cannot be read: ${join(dir, 'nads', 'zz-broken.yaml')}:\\d+`),
    );
    expect((await sandbox.cri.listPodSandbox()).map((pod) => pod.metadata.name).sort()).toEqual(['pod-a', 'pod-b']);
    expect(await sandbox.podNetns()).toEqual(before);
    expect(leases()).toBe(leasesBefore);
  });

  it('StopPodSandbox and RemovePodSandbox run DEL through multinet and leave nothing', async () => {
    for (const id of pods.splice(0)) {
      await sandbox.cri.stopPodSandbox(id);
      await sandbox.cri.removePodSandbox(id);
    }
    expect(await sandbox.cri.listPodSandbox()).toEqual([]);
    expect(await sandbox.podNetns()).toEqual([]);
    const veths = spawnSync('ip', ['-n', sandbox.hostNs, '-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
    expect((JSON.parse(veths.stdout) as { ifname: string }[]).map((link) => link.ifname)).toEqual(['lan0']);
    const macvlans = spawnSync('ip', ['-n', sandbox.hostNs, '-j', 'link', 'show', 'type', 'macvlan'], { encoding: 'utf8' });
    expect(JSON.parse(macvlans.stdout || '[]')).toEqual([]);
    expect(readdirSync(ipam(), { recursive: true }).filter((name) => /\d+\.\d+\.\d+\.\d+$/.test(String(name)))).toEqual([]);
    expect(readdirSync(join(dir, 'multinet', 'attachments'))).toEqual([]);
    // The log says containerd handed multinet the pod's identity and annotations.
    const log = readFileSync(join(dir, 'cni.log'), 'utf8');
    expect(log).toContain('K8S_POD_NAME=pod-a');
    expect(log).toContain('io.kubernetes.cri.pod-annotations');
  });

  it('closing the sandbox leaves nothing on the machine', async () => {
    const { dir: folder, hostNs, lanNs } = sandbox;
    await sandbox.close();
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(namespaces).not.toContain(hostNs);
    expect(namespaces).not.toContain(lanNs);
    expect(existsSync(folder)).toBe(false);
    expect(sandbox.cgroupFolders()).toEqual([]);
  });
});
