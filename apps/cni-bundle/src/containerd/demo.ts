// SPDX-License-Identifier: Apache-2.0
// The demo's containerd part (`bash scripts/demo.sh --containerd`): the multinet scenario's pods run
// through containerd 1.6's CRI, as kubelet runs them. scripts/demo/containerd.sh bundles this file
// with tsup and runs it as root: node dist/demo/demo.js <binDir> <cri.proto>.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { nadYaml } from './config.ts';
import { runCommand } from '../podman/sandbox.ts';
import { ContainerdSandbox } from './sandbox.ts';

const [binDir, proto] = process.argv.slice(2);
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const TAG = 'demo';

const step = (text: string) => console.log(`==> ${text}`);
const ok = (text: string) => console.log(`    ${text}`);

async function main(): Promise<void> {
  if (!binDir || !proto) throw new Error('usage: demo.js <binDir> <cri.proto>');
  // What a killed run left: its namespaces (its folders are under /tmp/cni-containerd-demo-*).
  for (const ns of [`cni-ctrd-h-${TAG}`, `cni-ctrd-l-${TAG}`]) if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'delete', ns]);

  step('containerd 1.6 with its CRI plugin, confined: its own netns, mounts, root, state, socket');
  let dir = '';
  const sandbox = await ContainerdSandbox.start({
    binDir,
    tag: TAG,
    proto,
    conflist: (base) => {
      dir = base;
      const nads = join(base, 'nads');
      mkdirSync(nads, { recursive: true });
      const hostLocal = (subnet: string, extra: Record<string, unknown> = {}) => ({ type: 'host-local', dataDir: join(base, 'ipam'), ranges: [[{ subnet, ...extra }]] });
      writeFileSync(join(nads, 'web.yaml'), `${nadYaml('bridge-net', 'web', { cniVersion: '1.0.0', type: 'bridge', bridge: 'br-data', isGateway: true, ipam: hostLocal('10.30.0.0/24') })}---\n${nadYaml('macvlan-net', 'web', { cniVersion: '1.0.0', type: 'macvlan', master: 'lan0', mode: 'bridge', ipam: hostLocal('10.40.0.0/24', { rangeStart: '10.40.0.10', rangeEnd: '10.40.0.50' }) })}`);
      writeFileSync(join(nads, 'storage.yaml'), nadYaml('backup', 'storage', { cniVersion: '0.4.0', type: 'bridge', bridge: 'br-backup', isGateway: true, ipam: hostLocal('10.50.0.0/24') }));
      writeFileSync(join(nads, 'sriov.yaml'), nadYaml('sriov-net', 'web', { cniVersion: '1.0.0', type: 'sriov', ipam: hostLocal('10.60.0.0/24') }));
      return {
        cniVersion: '1.0.0',
        name: 'multinet-cri',
        plugins: [
          {
            type: 'multinet',
            capabilities: { 'io.kubernetes.cri.pod-annotations': true },
            cniDir: join(base, 'multinet'),
            confDir: join(base, 'multinet-net.d'),
            binDir,
            nadDir: nads,
            delegates: [{ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, ipam: hostLocal('10.88.0.0/24') }] }],
          },
        ],
      };
    },
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= sandbox.close());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: stopping the pods and containerd`);
      void close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  try {
    const version = await sandbox.cri.version();
    ok(`CRI ${version.runtimeApiVersion} served by ${version.runtimeName} ${version.runtimeVersion}; pause image ${sandbox.pauseImage} imported offline; state in ${dir}`);
    const pods: [string, string, string][] = [
      ['web', 'web1', 'bridge-net,macvlan-net'],
      ['web', 'web2', JSON.stringify([{ name: 'bridge-net', interface: 'data0' }, { name: 'backup', namespace: 'storage', interface: 'backup0' }])],
      ['storage', 'db1', 'storage/backup'],
    ];
    const pids = new Map<string, string>();
    const ids: string[] = [];
    for (const [namespace, name, networks] of pods) {
      step(`RunPodSandbox ${namespace}/${name}, annotated ${NETWORKS}: ${networks}`);
      const id = await sandbox.cri.runPodSandbox({
        metadata: { name, namespace, uid: `uid-${name}`, attempt: 0 },
        hostname: name,
        annotations: { [NETWORKS]: networks },
        linux: { cgroupParent: sandbox.cgroupParent },
      });
      ids.push(id);
      const status = await sandbox.cri.podSandboxStatus(id);
      const pid = String((JSON.parse(status.info['info'] ?? '{}') as { pid?: number }).pid);
      pids.set(name, pid);
      const addrs = JSON.parse((await runCommand('nsenter', ['-t', pid, '-n', 'ip', '-j', '-4', 'addr', 'show'])).stdout) as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[];
      ok(`sandbox ${id.slice(0, 12)}, CRI pod IP ${status.status.network?.ip}`);
      for (const link of addrs.filter((l) => l.ifname !== 'lo')) ok(`${link.ifname} ${link.addr_info.map((a) => `${a.local}/${a.prefixlen}`).join(' ')}`);
    }
    step('traffic over each network');
    const ping = async (from: string, to: string, what: string) => {
      const result = await runCommand('nsenter', ['-t', pids.get(from)!, '-n', 'ping', '-c', '1', '-W', '2', to]);
      if (result.status !== 0) throw new Error(`ping ${what} (${to}) failed: ${result.stdout}${result.stderr}`);
      ok(`ping ${what} (${to}) answers`);
    };
    await ping('web1', '10.88.0.1', 'web1 eth0 -> the node on the default network');
    await ping('web1', '10.30.0.1', 'web1 net1 -> the node on web/bridge-net');
    await ping('web1', ContainerdSandbox.LAN_PEER, 'web1 net2 -> the LAN peer on web/macvlan-net');
    await ping('db1', '10.50.0.1', 'db1 net1 -> the node on storage/backup');

    step('RunPodSandbox web/bad1 selecting web/sriov-net (plugin not installed)');
    try {
      await sandbox.cri.runPodSandbox({ metadata: { name: 'bad1', namespace: 'web', uid: 'uid-bad1', attempt: 0 }, annotations: { [NETWORKS]: 'bridge-net,sriov-net' }, linux: { cgroupParent: sandbox.cgroupParent } });
      throw new Error('RunPodSandbox of web/bad1 should have failed');
    } catch (error) {
      const message = (error as { details?: string }).details ?? String(error);
      ok(`refused: ...${message.slice(message.indexOf('network "web/sriov-net"'))}`);
    }
    ok(`sandboxes: ${(await sandbox.cri.listPodSandbox()).map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`).sort().join(' ')}`);

    step('StopPodSandbox and RemovePodSandbox of every pod (multinet DEL)');
    for (const id of ids) {
      await sandbox.cri.stopPodSandbox(id);
      await sandbox.cri.removePodSandbox(id);
    }
    const leases = readdirSync(join(dir, 'ipam'), { recursive: true }).filter((name) => /\d+\.\d+\.\d+\.\d+$/.test(String(name))).length;
    ok(`sandboxes left ${(await sandbox.cri.listPodSandbox()).length}, pod namespaces left ${(await sandbox.podNetns()).length}, leases left ${leases}, multinet records left ${readdirSync(join(dir, 'multinet', 'attachments')).length}`);
  } finally {
    step('stopping containerd, removing its namespaces, cgroups and folder');
    await close();
  }
  ok('nothing left behind');
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
