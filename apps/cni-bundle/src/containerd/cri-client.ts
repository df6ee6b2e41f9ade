// SPDX-License-Identifier: Apache-2.0
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** A pod sandbox's metadata, as kubelet sends it. */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

/** The part of `PodSandboxConfig` the tests set. */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  portMappings?: { protocol?: 'TCP' | 'UDP' | 'SCTP'; containerPort: number; hostPort: number; hostIp?: string }[];
  linux?: { cgroupParent?: string };
}

/** `PodSandboxStatusResponse`, verbose: `info.info` is containerd's JSON with the sandbox's pid. */
export interface PodSandboxStatusResponse {
  status: {
    id: string;
    metadata: PodSandboxMetadata;
    state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
    network: { ip: string; additionalIps: { ip: string }[] } | null;
    annotations: Record<string, string>;
  };
  info: Record<string, string>;
}

/** A sandbox as `ListPodSandbox` returns it. */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
}

type Unary = (request: unknown, callback: (error: ServiceError | null, response: unknown) => void) => void;

/**
 * A CRI `runtime.v1.RuntimeService` client over a unix socket, for the pod-sandbox calls kubelet
 * makes (what drives CNI). Test-only: built from `cri.proto` at construction.
 */
export class CriClient {
  readonly #client: Client & Record<string, Unary>;

  /** `proto`: the path of cri.proto, when this file runs from elsewhere than its source folder. */
  constructor(socket: string, proto = new URL('./cri.proto', import.meta.url).pathname) {
    const definition = loadSync(proto, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const root = loadPackageDefinition(definition) as unknown as {
      runtime: { v1: { RuntimeService: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client } };
    };
    this.#client = new root.runtime.v1.RuntimeService(`unix://${socket}`, credentials.createInsecure()) as Client & Record<string, Unary>;
  }

  #call<T>(method: string, request: unknown, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.#client[method] as unknown as (r: unknown, m: unknown, o: { deadline: Date }, cb: (e: ServiceError | null, v: unknown) => void) => void;
      fn.call(this.#client, request, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
        if (error) reject(error);
        else resolve(response as T);
      });
    });
  }

  version(): Promise<{ version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    return this.#call('Version', { version: 'v1' }, 10_000);
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const response = await this.#call<{ podSandboxId: string }>('RunPodSandbox', { config });
    return response.podSandboxId;
  }

  podSandboxStatus(id: string): Promise<PodSandboxStatusResponse> {
    return this.#call('PodSandboxStatus', { podSandboxId: id, verbose: true });
  }

  async listPodSandbox(): Promise<PodSandbox[]> {
    return (await this.#call<{ items: PodSandbox[] }>('ListPodSandbox', {})).items;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.#call('StopPodSandbox', { podSandboxId: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#call('RemovePodSandbox', { podSandboxId: id });
  }

  close(): void {
    this.#client.close();
  }
}
