// SPDX-License-Identifier: Apache-2.0
import type { AddRequest, CheckRequest, DelRequest, GcRequest, PluginRequest, StatusRequest, UndoStack } from '@cni/skel';
import { CNI_ERROR_CODES, type InterfaceV100, type ResultV100, toCurrentResult } from '@cni/spec';
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

/** Options of {@link ipamAddFor}. */
export interface IpamAddForOptions {
  /** Keep the DNS the IPAM plugin returned (dummy does, as upstream); default: dropped, the plugin sets its own. */
  keepDns?: boolean;
}

/**
 * ADD of the plugin's IPAM for a plugin that made one interface: the lease's DEL goes on `undo`
 * (so a later failure of the ADD releases it), and the result names `iface` with every address
 * on it (index 0) and IPAM's routes, as upstream's macvlan, ipvlan, vlan, tap and dummy.
 *
 * @throws what {@link ipamAdd} throws.
 */
export async function ipamAddFor(request: AddRequest, iface: InterfaceV100, undo: UndoStack, options: IpamAddForOptions = {}): Promise<ResultV100> {
  const lease = toCurrentResult(await request.delegate(ipamType(request)));
  // Released also when the result is refused below: the IPAM plugin may hold something.
  undo.defer(() => ipamDel(request));
  if (lease.ips === undefined || lease.ips.length === 0) throw new IpamError('IPAM plugin returned missing IP config');
  return {
    cniVersion: '1.1.0',
    interfaces: [iface],
    ips: (lease.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
    ...(lease.routes === undefined ? {} : { routes: lease.routes }),
    ...(options.keepDns && lease.dns !== undefined ? { dns: lease.dns } : {}),
  };
}
