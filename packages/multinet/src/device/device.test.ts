// SPDX-License-Identifier: Apache-2.0
import { createServer, type Http2Server } from 'node:http2';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginExec } from '@cni/libcni';
import { runPlugin } from '@cni/skel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeApi } from '../kube.ts';
import { createMultinet } from '../multinet.ts';
import { readCheckpoint } from './checkpoint.ts';
import { decodeListResponse, encodeListResponse, grpcFrame, listPodResources, type PodDevices } from './pod-resources.ts';
import { DeviceAllocator } from './resources.ts';

const RESOURCE = 'intel.com/sriov_netdevice';

let dir: string;
let server: Http2Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'multinet-device-'));
});
afterEach(async () => {
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A kubelet's PodResources endpoint: gRPC over HTTP/2 on a unix socket, answering
 * `/v1.PodResourcesLister/List` with `pods`, as the kubelet frames it (data, then trailers).
 */
async function fakeKubelet(pods: readonly PodDevices[]): Promise<{ socket: string; paths: string[] }> {
  const socket = join(dir, 'kubelet.sock');
  const paths: string[] = [];
  server = createServer();
  server.on('stream', (stream, headers) => {
    paths.push(String(headers[':path']));
    stream.on('data', () => undefined);
    stream.on('end', () => {
      if (headers[':path'] !== '/v1.PodResourcesLister/List') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown method' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(encodeListResponse(pods)));
    });
  });
  await new Promise<void>((done) => server!.listen(socket, done));
  return { socket, paths };
}

const pods: PodDevices[] = [
  { namespace: 'web', name: 'other', devices: [{ container: 'c', resourceName: RESOURCE, deviceIds: ['0000:af:02.7'] }] },
  {
    namespace: 'web',
    name: 'pod-a',
    devices: [
      { container: 'app', resourceName: RESOURCE, deviceIds: ['0000:af:02.1', '0000:af:02.2'] },
      { container: 'app', resourceName: 'nvidia.com/gpu', deviceIds: ['GPU-1'] },
    ],
  },
];

describe('PodResources and the checkpoint', () => {
  it('encodes and decodes v1.ListPodResourcesResponse', () => {
    expect(decodeListResponse(encodeListResponse(pods))).toEqual(pods);
    // Field numbers as in api.proto: pod_resources=1 { name=1 namespace=2 containers=3 { name=1 devices=2 { resource_name=1 device_ids=2 } } }.
    const one = encodeListResponse([{ namespace: 'n', name: 'p', devices: [{ container: 'c', resourceName: 'r', deviceIds: ['d'] }] }]);
    expect(one.toString('hex')).toBe('0a13' + '0a0170' + '12016e' + '1a0b' + '0a0163' + '1206' + '0a0172' + '120164');
  });

  it('lists the pods\' devices from a kubelet over gRPC, and reports a missing socket', async () => {
    const kubelet = await fakeKubelet(pods);
    expect(await listPodResources(kubelet.socket)).toEqual(pods);
    expect(kubelet.paths).toEqual(['/v1.PodResourcesLister/List']);
    await expect(listPodResources(join(dir, 'absent.sock'))).rejects.toThrow(/absent\.sock/);
  });

  it('reads the checkpoint in both DeviceIDs forms, and falls back to it by pod UID', async () => {
    const file = join(dir, 'kubelet_internal_checkpoint');
    writeFileSync(
      file,
      JSON.stringify({
        Data: {
          PodDeviceEntries: [
            { PodUID: 'uid-1', ContainerName: 'app', ResourceName: RESOURCE, DeviceIDs: { '1': ['0000:af:02.4'], '0': ['0000:af:02.3'] } },
            { PodUID: 'uid-2', ContainerName: 'app', ResourceName: RESOURCE, DeviceIDs: ['0000:af:02.5'] },
          ],
          RegisteredDevices: {},
        },
        Checksum: 1,
      }),
    );
    expect(readCheckpoint(file).map((e) => e.deviceIds)).toEqual([['0000:af:02.3', '0000:af:02.4'], ['0000:af:02.5']]);
    const allocator = new DeviceAllocator({ namespace: 'web', name: 'pod-a', uid: 'uid-1' }, { podResourcesSocket: join(dir, 'absent.sock'), checkpointFile: file });
    expect(await allocator.next(RESOURCE)).toBe('0000:af:02.3');
    expect(await allocator.next(RESOURCE)).toBe('0000:af:02.4');
    await expect(allocator.next(RESOURCE)).rejects.toThrow(`resource "${RESOURCE}": the kubelet allocated 2 device(s) to pod web/pod-a, and 2 are taken by earlier attachments`);
  });
});

describe('multinet: resourceName → deviceID', () => {
  it('gives each attachment of a resource its own device, in config and runtimeConfig where declared', async () => {
    const kubelet = await fakeKubelet(pods);
    const calls: { ifName: string; conf: Record<string, unknown> }[] = [];
    const exec: PluginExec = {
      findInPath: (type) => `/fake/${type}`,
      async execPlugin(_path, stdin, env) {
        const conf = JSON.parse(Buffer.from(stdin).toString('utf8')) as Record<string, unknown>;
        calls.push({ ifName: env.CNI_IFNAME ?? '', conf });
        if (env.CNI_COMMAND !== 'ADD') return new Uint8Array();
        return new TextEncoder().encode(JSON.stringify({ cniVersion: conf.cniVersion, interfaces: [{ name: env.CNI_IFNAME, sandbox: env.CNI_NETNS }], ips: [{ address: '10.0.0.2/24', interface: 0 }] }));
      },
    };
    const nad = (name: string, config: Record<string, unknown>, annotations: Record<string, string> = {}) => ({ metadata: { name, namespace: 'web', annotations }, spec: { config: JSON.stringify(config) } });
    const nads = new Map([
      ['web/cluster', nad('cluster', { cniVersion: '1.0.0', type: 'bridge' })],
      ['web/sriov-a', nad('sriov-a', { cniVersion: '1.0.0', type: 'sriov', capabilities: { deviceID: true } }, { 'k8s.v1.cni.cncf.io/resourceName': RESOURCE })],
    ]);
    const kube: KubeApi = {
      getPod: async () => ({ metadata: { name: 'pod-a', namespace: 'web', uid: 'uid-1', annotations: { 'k8s.v1.cni.cncf.io/networks': 'sriov-a,sriov-a' } } }),
      getNad: async (ns, name) => nads.get(`${ns}/${name}`),
      patchPodAnnotation: async (_ns, _name, key, value) => {
        patches.set(key, JSON.parse(value));
      },
    };
    const patches = new Map<string, unknown>();
    // The device plugin wrote a device-info file for one of the two devices.
    const infoDir = join(dir, 'devinfo');
    mkdirSync(infoDir);
    writeFileSync(join(infoDir, `intel.com-sriov_netdevice-0000:af:02.2-device.json`), JSON.stringify({ type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:af:02.2', 'pf-pci-address': '0000:af:00.0' } }));
    let stdout = '';
    const code = await runPlugin(createMultinet({ exec, kube: () => kube, devices: { podResourcesSocket: kubelet.socket, deviceInfoDir: infoDir } }), {
      env: {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'c1',
        CNI_NETNS: '/var/run/netns/unit-test-nonexistent',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/opt/cni/bin',
        CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=pod-a;K8S_POD_UID=uid-1',
      },
      stdin: JSON.stringify({ cniVersion: '1.1.0', name: 'multinet-network', type: 'multinet', clusterNetwork: 'cluster', multinetNamespace: 'web', cniDir: join(dir, 'cache'), confDir: join(dir, 'net.d') }),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
    });
    expect(code, stdout).toBe(0);
    const sriov = calls.filter((call) => call.conf.type === 'sriov');
    expect(sriov.map((call) => [call.ifName, call.conf.deviceID, (call.conf.runtimeConfig as { deviceID?: string } | undefined)?.deviceID])).toEqual([
      ['net1', '0000:af:02.1', '0000:af:02.1'],
      ['net2', '0000:af:02.2', '0000:af:02.2'],
    ]);
    expect(calls.find((call) => call.conf.type === 'bridge')?.conf.deviceID).toBeUndefined();
    const status = patches.get('k8s.v1.cni.cncf.io/network-status') as { name: string; 'device-info'?: unknown }[];
    expect(status.map((entry) => entry['device-info'])).toEqual([
      undefined,
      { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:af:02.1' } },
      { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:af:02.2', 'pf-pci-address': '0000:af:00.0' } },
    ]);
  });
});
