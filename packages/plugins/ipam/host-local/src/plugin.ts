// SPDX-License-Identifier: Apache-2.0
import { type AddRequest, type CheckRequest, type DelRequest, definePlugin, type GcRequest, type PluginRequest, type StatusRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, CniError, type Dns, type ResultV100, type Route } from '@cni/spec';
import { type Attachment, HostLocalAllocator } from './allocator.ts';
import { type HostLocalConfig, loadHostLocalConfig } from './config.ts';
import { hostLocalError, rangeSetToString } from './range-set.ts';
import { parseResolvConf } from './resolv.ts';
import { DiskStore } from './store.ts';

const argParsers = { IP: (value: string): string => value };

function configOf(request: PluginRequest): HostLocalConfig {
  const args = request.loadArgs(argParsers);
  return loadHostLocalConfig({ conf: request.conf as unknown as Record<string, unknown>, argsIp: args.IP });
}

async function withStore<T>(config: HostLocalConfig, body: (allocator: HostLocalAllocator) => Promise<T>): Promise<T> {
  const store = DiskStore.open(config.dataDir, config.name);
  try {
    return await body(new HostLocalAllocator(store));
  } finally {
    store.close();
  }
}

function routesOf(config: HostLocalConfig): Route[] {
  return config.routes.map((route) => ({ ...route }));
}

async function add(request: AddRequest): Promise<ResultV100> {
  const config = configOf(request);
  let dns: Dns | undefined;
  if (config.resolvConf !== '') {
    try {
      dns = parseResolvConf(config.resolvConf);
    } catch (error) {
      throw hostLocalError(`open ${config.resolvConf}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`);
    }
  }
  const allocations = await withStore(config, (allocator) =>
    allocator.allocate(config.ranges, config.requested, request.containerId, request.ifName),
  );
  const result: ResultV100 = {
    cniVersion: '1.1.0',
    ips: allocations.map(({ address, gateway }) => ({ address, gateway })),
  };
  if (config.routes.length > 0) result.routes = routesOf(config);
  if (dns !== undefined) result.dns = dns;
  return result;
}

async function del(request: DelRequest): Promise<void> {
  const config = configOf(request);
  await withStore(config, (allocator) => allocator.release(request.containerId, request.ifName));
}

async function check(request: CheckRequest): Promise<void> {
  const config = configOf(request);
  const owned = await withStore(config, (allocator) => allocator.owned(request.containerId, request.ifName));
  if (owned.length === 0) throw hostLocalError(`host-local: Failed to find address added by container ${request.containerId}`);
}

function validAttachments(request: GcRequest): Attachment[] {
  const conf = request.conf as unknown as Record<string, unknown>;
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'];
  if (!Array.isArray(list)) return [];
  return list.map((entry: { containerID: string; ifname: string }) => ({ containerId: entry.containerID, ifName: entry.ifname }));
}

async function gc(request: GcRequest): Promise<void> {
  const config = configOf(request);
  await withStore(config, (allocator) => allocator.gc(validAttachments(request)));
}

async function status(request: StatusRequest): Promise<void> {
  const config = configOf(request);
  const free = await withStore(config, (allocator) => allocator.free(config.ranges));
  const full = free.findIndex((count) => count === 0n);
  if (full >= 0) {
    throw new CniError(
      CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE,
      `no IP addresses available in range set: ${rangeSetToString(config.ranges[full]!)}`,
    );
  }
}

/**
 * The host-local IPAM plugin: addresses from the configured range sets, kept in
 * `<dataDir>/<network>/` exactly as upstream's binary keeps them. ADD, DEL and CHECK as
 * upstream; GC releases every lease whose attachment is not in `cni.dev/valid-attachments`;
 * STATUS fails with code 50 while a range set has no free address.
 *
 * @example
 * ```ts
 * import { runPlugin } from '@cni/skel';
 * import { hostLocal } from '@cni/ipam-hostlocal';
 * process.exitCode = await runPlugin(hostLocal);
 * ```
 */
export const hostLocal = definePlugin({
  name: 'host-local',
  versions: ALL_SPEC_VERSIONS,
  add,
  del,
  check,
  gc,
  status,
});
