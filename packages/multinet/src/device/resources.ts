// SPDX-License-Identifier: Apache-2.0
import { confListFromBytes, type NetworkConfigList } from '@cni/libcni';
import { DEFAULT_CHECKPOINT_FILE, readCheckpoint } from './checkpoint.ts';
import { DEFAULT_POD_RESOURCES_SOCKET, listPodResources } from './pod-resources.ts';

/** The NAD annotation naming the device-plugin resource its attachments take a device of. */
export const RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName';

/** Where the kubelet's device allocations are read; options of multinet (tests point them at a fake kubelet). */
export interface DeviceSourceOptions {
  /** The PodResources API socket. Default `/var/lib/kubelet/pod-resources/kubelet.sock`. */
  readonly podResourcesSocket?: string;
  /** The device manager's checkpoint, read when the API is not there. Default the kubelet's. */
  readonly checkpointFile?: string;
  /** Where device plugins write device-info files. Default `/var/run/k8s.cni.cncf.io/devinfo/dp`. */
  readonly deviceInfoDir?: string;
}

/** The pod whose devices are handed out. */
export interface DevicePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/**
 * Hands out the devices the kubelet allocated to a pod, per resource, each once: the first
 * attachment of a resource gets its first device, the second the next, as Multus does. The
 * allocations are read on first use: from the PodResources API, else (as Multus) from the
 * kubelet's checkpoint file by pod UID.
 */
export class DeviceAllocator {
  readonly #pod: DevicePod;
  readonly #options: DeviceSourceOptions;
  #byResource: Map<string, string[]> | undefined;
  readonly #used = new Map<string, number>();

  constructor(pod: DevicePod, options: DeviceSourceOptions = {}) {
    this.#pod = pod;
    this.#options = options;
  }

  async #load(): Promise<Map<string, string[]>> {
    const byResource = new Map<string, string[]>();
    const add = (resource: string, ids: readonly string[]) => byResource.set(resource, [...(byResource.get(resource) ?? []), ...ids]);
    let apiError: unknown;
    try {
      const pods = await listPodResources(this.#options.podResourcesSocket ?? DEFAULT_POD_RESOURCES_SOCKET);
      const pod = pods.find((p) => p.namespace === this.#pod.namespace && p.name === this.#pod.name);
      for (const device of pod?.devices ?? []) add(device.resourceName, device.deviceIds);
      return byResource;
    } catch (error) {
      apiError = error;
    }
    if (!this.#pod.uid) throw new Error(`cannot read the pod's devices: ${(apiError as Error).message}, and without K8S_POD_UID the checkpoint cannot be used`);
    let entries;
    try {
      entries = readCheckpoint(this.#options.checkpointFile ?? DEFAULT_CHECKPOINT_FILE);
    } catch (error) {
      throw new Error(`cannot read the pod's devices: ${(apiError as Error).message}; checkpoint: ${(error as Error).message}`, { cause: error });
    }
    for (const entry of entries) if (entry.podUid === this.#pod.uid) add(entry.resourceName, entry.deviceIds);
    return byResource;
  }

  /** The next device of `resourceName` not yet handed out; an error naming the resource when none is left. */
  async next(resourceName: string): Promise<string> {
    this.#byResource ??= await this.#load();
    const ids = this.#byResource.get(resourceName) ?? [];
    const used = this.#used.get(resourceName) ?? 0;
    const id = ids[used];
    if (id === undefined) {
      throw new Error(`resource "${resourceName}": the kubelet allocated ${ids.length} device(s) to pod ${this.#pod.namespace}/${this.#pod.name}, and ${used} are taken by earlier attachments`);
    }
    this.#used.set(resourceName, used + 1);
    return id;
  }
}

/**
 * The list with `deviceID` set on every plugin (Multus's delegateAddDeviceID) and, for plugins
 * that declare the `deviceID` capability, the runtimeConfig argument to pass.
 */
export function withDeviceId(list: NetworkConfigList, deviceId: string): { list: NetworkConfigList; capabilityArgs: Record<string, unknown> } {
  const raw = JSON.parse(Buffer.from(list.bytes).toString('utf8')) as { plugins: Record<string, unknown>[] };
  raw.plugins = raw.plugins.map((plugin) => ({ ...plugin, deviceID: deviceId }));
  const declares = list.plugins.some((plugin) => plugin.network.capabilities?.['deviceID'] === true);
  return { list: confListFromBytes(JSON.stringify(raw)), capabilityArgs: declares ? { deviceID: deviceId } : {} };
}
