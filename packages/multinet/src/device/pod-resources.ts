// SPDX-License-Identifier: Apache-2.0
// Static imports (see the bundle's lazy built-in loaders): a dynamic import() in the bundle's
// code-cached script prints Node 24's vm loader ExperimentalWarning on stderr.
import { connect } from 'node:http2';
import * as net from 'node:net';
import { decodeMessage, encodeField, messages, strings } from './protobuf.ts';

/** Where the kubelet serves the PodResources API. */
export const DEFAULT_POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

/** The devices of one resource allocated to one container of a pod. */
export interface ContainerDevices {
  readonly container: string;
  readonly resourceName: string;
  readonly deviceIds: readonly string[];
}

/** A pod's devices, as the kubelet reports them. */
export interface PodDevices {
  readonly namespace: string;
  readonly name: string;
  readonly devices: readonly ContainerDevices[];
}

/**
 * Decodes a `v1.ListPodResourcesResponse` (k8s.io/kubelet/pkg/apis/podresources/v1): pod_resources=1
 * { name=1, namespace=2, containers=3 { name=1, devices=2 { resource_name=1, device_ids=2 } } }.
 */
export function decodeListResponse(bytes: Buffer): PodDevices[] {
  return messages(decodeMessage(bytes), 1).map((pod) => ({
    name: strings(pod, 1)[0] ?? '',
    namespace: strings(pod, 2)[0] ?? '',
    devices: messages(pod, 3).flatMap((container) => {
      const name = strings(container, 1)[0] ?? '';
      return messages(container, 2).map((device) => ({ container: name, resourceName: strings(device, 1)[0] ?? '', deviceIds: strings(device, 2) }));
    }),
  }));
}

/** Encodes a `v1.ListPodResourcesResponse`: for the test kubelet, and the decoder's round trip. */
export function encodeListResponse(pods: readonly PodDevices[]): Buffer {
  return Buffer.concat(
    pods.map((pod) => {
      const byContainer = new Map<string, ContainerDevices[]>();
      for (const device of pod.devices) byContainer.set(device.container, [...(byContainer.get(device.container) ?? []), device]);
      const containers = [...byContainer].map(([name, devices]) =>
        encodeField(3, Buffer.concat([encodeField(1, name), ...devices.map((d) => encodeField(2, Buffer.concat([encodeField(1, d.resourceName), ...d.deviceIds.map((id) => encodeField(2, id))])))])),
      );
      return encodeField(1, Buffer.concat([encodeField(1, pod.name), encodeField(2, pod.namespace), ...containers]));
    }),
  );
}

/** A gRPC message frame: not compressed, big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/**
 * Calls `v1.PodResourcesLister/List` on the kubelet's socket (gRPC over HTTP/2, unary) and returns
 * every pod's devices. Rejects when the socket is not there or the call fails, so the caller can
 * fall back to the kubelet's checkpoint file, as Multus does.
 */
export async function listPodResources(socketPath = DEFAULT_POD_RESOURCES_SOCKET, timeoutMs = 10_000): Promise<PodDevices[]> {
  return new Promise((resolve, reject) => {
    const session = connect('http://localhost', { createConnection: () => net.connect(socketPath) });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`PodResources List on ${socketPath} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (error: Error | undefined, value?: PodDevices[]) => {
      clearTimeout(timer);
      session.close();
      if (error) reject(error);
      else resolve(value ?? []);
    };
    session.on('error', (error) => done(new Error(`PodResources API at ${socketPath}: ${error.message}`, { cause: error })));
    const stream = session.request({ ':method': 'POST', ':path': '/v1.PodResourcesLister/List', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let statusMessage = '';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status'] ?? status ?? '');
      statusMessage = String(trailers['grpc-message'] ?? '');
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => done(new Error(`PodResources List on ${socketPath}: ${error.message}`, { cause: error })));
    stream.on('end', () => {
      if (status !== '0') return done(new Error(`PodResources List on ${socketPath} failed: grpc-status ${status ?? 'missing'} ${statusMessage}`.trim()));
      const body = Buffer.concat(chunks);
      if (body.length < 5) return done(undefined, []);
      if (body[0] !== 0) return done(new Error('PodResources List: compressed responses are not supported'));
      try {
        done(undefined, decodeListResponse(body.subarray(5, 5 + body.readUInt32BE(1))));
      } catch (error) {
        done(error as Error);
      }
    });
    stream.end(grpcFrame(Buffer.alloc(0)));
  });
}
