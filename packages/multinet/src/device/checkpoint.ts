// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';

/** The kubelet's device-manager checkpoint, read when the PodResources API is not available. */
export const DEFAULT_CHECKPOINT_FILE = '/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint';

/** One entry of the checkpoint: the devices of one resource allocated to one container of a pod. */
export interface CheckpointEntry {
  readonly podUid: string;
  readonly container: string;
  readonly resourceName: string;
  readonly deviceIds: readonly string[];
}

/**
 * The entries of the kubelet's checkpoint file (`Data.PodDeviceEntries`). `DeviceIDs` is a list in
 * kubelets before 1.20 and a map of NUMA node to list since; both are read.
 */
export function readCheckpoint(path = DEFAULT_CHECKPOINT_FILE): CheckpointEntry[] {
  const data = JSON.parse(readFileSync(path, 'utf8')) as { Data?: { PodDeviceEntries?: unknown } };
  const entries = data.Data?.PodDeviceEntries;
  if (!Array.isArray(entries)) return [];
  return entries.map((raw) => {
    const entry = raw as { PodUID?: unknown; ContainerName?: unknown; ResourceName?: unknown; DeviceIDs?: unknown };
    const ids = entry.DeviceIDs;
    const deviceIds = Array.isArray(ids)
      ? ids.filter((id): id is string => typeof id === 'string')
      : typeof ids === 'object' && ids !== null
        ? Object.keys(ids)
            .sort()
            .flatMap((node) => ((ids as Record<string, unknown>)[node] as unknown[]).filter((id): id is string => typeof id === 'string'))
        : [];
    return { podUid: String(entry.PodUID ?? ''), container: String(entry.ContainerName ?? ''), resourceName: String(entry.ResourceName ?? ''), deviceIds };
  });
}
