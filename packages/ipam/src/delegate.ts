// SPDX-License-Identifier: Apache-2.0
import type { AddRequest, CheckRequest, DelRequest, GcRequest, PluginRequest, StatusRequest } from '@cni/skel';
import { CNI_ERROR_CODES, type ResultV100, toCurrentResult } from '@cni/spec';
import { IpamError } from './errors.ts';

/**
 * The `ipam.type` of the request's configuration: the IPAM plugin to delegate to.
 *
 * @throws IpamError code 7 when the configuration has no `ipam` with a `type`.
 */
export function ipamType(request: Pick<PluginRequest, 'conf'>): string {
  const ipam = (request.conf as { ipam?: { type?: unknown } }).ipam;
  if (typeof ipam?.type !== 'string' || ipam.type === '') {
    throw new IpamError("IPAM config missing 'type'", { code: CNI_ERROR_CODES.INVALID_NETWORK_CONFIG });
  }
  return ipam.type;
}

/**
 * ADD of the plugin's IPAM (upstream's `ipam.ExecAdd`): the IPAM plugin runs with the caller's
 * stdin, and its result comes back in the 1.x form whatever version it printed.
 *
 * @throws the delegate's CniError unchanged; IpamError `IPAM plugin returned missing IP config`
 * for a result without addresses, as upstream's interface plugins say.
 */
export async function ipamAdd(request: AddRequest): Promise<ResultV100> {
  const result = toCurrentResult(await request.delegate(ipamType(request)));
  if (result.ips === undefined || result.ips.length === 0) throw new IpamError('IPAM plugin returned missing IP config');
  return result;
}

/**
 * Release what an ADD's IPAM gave: DEL of the IPAM plugin. From an ADD request (a rollback) it
 * runs as DEL; from a DEL request, as the request itself.
 */
export async function ipamDel(request: AddRequest | DelRequest): Promise<void> {
  const type = ipamType(request);
  if (request.command === 'ADD') await (request as AddRequest).delegate(type, undefined, { command: 'DEL' });
  else await (request as DelRequest).delegate(type);
}

/** CHECK of the plugin's IPAM (upstream's `ipam.ExecCheck`). */
export async function ipamCheck(request: CheckRequest): Promise<void> {
  await request.delegate(ipamType(request));
}

/** GC of the plugin's IPAM: the IPAM plugin gets the same `cni.dev/valid-attachments`. */
export async function ipamGc(request: GcRequest): Promise<void> {
  await request.delegate(ipamType(request));
}

/**
 * STATUS of the plugin's IPAM: the plugin is ready when its IPAM is (upstream's interface
 * plugins pass STATUS through the same way). A configuration without IPAM is ready.
 */
export async function ipamStatus(request: StatusRequest): Promise<void> {
  const ipam = (request.conf as { ipam?: { type?: unknown } }).ipam;
  if (ipam === undefined) return;
  await request.delegate(ipamType(request));
}

/**
 * Run the IPAM ADD, then `body` with its result; when `body` fails, release the addresses again
 * (a failing DEL is left unreported: the original error is what the runtime must see) and
 * rethrow, as upstream's plugins do in their deferred cleanup.
 *
 * @example
 * ```ts
 * add: (request) => withIpam(request, async (result) => {
 *   await configureIface(request.ifName, { ...result, interfaces: [...] }, { netns: request.netns });
 *   return result;
 * }),
 * ```
 */
export async function withIpam<T>(request: AddRequest, body: (result: ResultV100) => Promise<T> | T): Promise<T> {
  const result = await ipamAdd(request);
  try {
    return await body(result);
  } catch (error) {
    await ipamDel(request).catch(() => undefined);
    throw error;
  }
}
