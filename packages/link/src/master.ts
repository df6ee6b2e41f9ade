// SPDX-License-Identifier: Apache-2.0
import { openNetlink, type IpvlanAdd, type Link, type MacvlanAdd, type Netlink, type VlanAdd } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError, type ConfigReader, type InterfaceV100 } from '@cni/spec';
import { createThenRename } from './rename.ts';
import { isLinkGone, messageOf, openSandbox } from './sandbox.ts';

/** What locating a master needs from a configuration. */
export interface MasterConf {
  /** The master's name; `''` for the interface of the default route. */
  master: string;
  /** 0 inherits the master's MTU; anything else must not exceed it. */
  mtu: number;
  /** The master lives in the container's namespace rather than the host's. */
  linkInContainer: boolean;
}

/** The master link and a handle on the namespace it lives in; close `nl` when done. */
export interface ResolvedMaster {
  readonly nl: Netlink;
  readonly link: Link;
  /** The master's name, the default-route interface's when the configuration named none. */
  readonly name: string;
}

/**
 * The interface of the first default route (IPv4 routes list first), as upstream's
 * `getDefaultRouteInterfaceName`, in the main table of the namespace `nl` is bound to.
 */
export async function defaultRouteInterface(nl: Netlink): Promise<string> {
  for (const family of [4, 6] as const) {
    for (const route of await nl.route.list({ family })) {
      if (route.dst !== 'default' || route.linkIndex === undefined) continue;
      return (await nl.link.get({ index: route.linkIndex })).name;
    }
  }
  throw new Error('no default route interface found');
}

/**
 * The one rule for a child link's MTU: 0 inherits the master's, anything else must not exceed
 * it. Code 7 for every plugin (upstream's Go returns a plain error here, which its skel prints
 * as 999; the value is the configuration's, so the configuration code says what to fix).
 */
export function checkMtuAgainstMaster(mtu: number, masterMtu: number): void {
  if (mtu > masterMtu) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid MTU ${mtu}, must be [0, master MTU(${masterMtu})]`);
  }
}

/**
 * Find the master (the default-route interface when none is named) in the host's namespace, or
 * in the container's with `linkInContainer`, and bound the MTU by the master's
 * ({@link checkMtuAgainstMaster}). A master that does not exist is code 999, as upstream.
 */
export async function resolveMaster(conf: MasterConf, netns: string): Promise<ResolvedMaster> {
  const nl = conf.linkInContainer ? await openSandbox(netns) : await openNetlink();
  try {
    const name = conf.master === '' ? await defaultRouteInterface(nl) : conf.master;
    let link: Link;
    try {
      link = await nl.link.get({ name });
    } catch (error) {
      if (isLinkGone(error)) {
        const where = conf.linkInContainer ? 'in the container' : 'on the host';
        throw new CniError(CNI_ERROR_CODES.INTERNAL, `failed to lookup master "${name}" ${where}: link not found`, { cause: error });
      }
      throw error;
    }
    checkMtuAgainstMaster(conf.mtu, link.mtu);
    return { nl, link, name };
  } catch (error) {
    nl.close();
    throw error;
  }
}

/**
 * The `mtu` key of a link made on a master, read the same way by every such plugin: absent is 0
 * (inherit the master's); the bound by the master's MTU needs the kernel ({@link resolveMaster}).
 */
export function readChildMtu(reader: ConfigReader): number {
  const value = reader.key('mtu');
  if (value.absent) return 0;
  if (typeof value.value !== 'number' || !Number.isSafeInteger(value.value) || value.value < 0) {
    value.fail('an integer in [0, master MTU]');
    return 0;
  }
  return value.value;
}

/** The links {@link createOnMaster} makes: those made on a parent. */
export type ChildLinkAdd = MacvlanAdd | IpvlanAdd | VlanAdd;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A child link's kind-specific part; createOnMaster adds its name, parent, MTU and namespace. */
export type ChildLinkSpec = DistributiveOmit<ChildLinkAdd, 'name' | 'parentIndex' | 'mtu' | 'netns'>;

/** Options of {@link createOnMaster}. */
export interface CreateOnMasterOptions {
  /** The container's namespace path and the name the link must end up with (CNI_IFNAME). */
  request: { readonly netns: string; readonly ifName: string; readonly containerId: string };
  /** Which master, the MTU (0: the master's), and where the master lives. */
  conf: MasterConf;
  /** The container's namespace handle, where the link ends up. */
  container: Netlink;
  /** The temporary name's prefix (see {@link createThenRename}). */
  prefix: string;
  /** The link's kind-specific part: `{ kind: 'macvlan', mode: 'bridge' }`. */
  link: ChildLinkSpec;
  /** What the link is, for messages; default its kind (`vlan 100` reads better for a vlan). */
  what?: string;
  /**
   * A plugin's own wording for a creation failure it recognises (ipvlan's busy master);
   * `undefined` for the common one: `failed to create <what> on master "<name>": <reason>`.
   */
  explainCreateError?: (error: unknown, master: ResolvedMaster) => Error | undefined;
}

/**
 * The ADD step of every plugin that makes a child of a master (macvlan, ipvlan, vlan): resolve the
 * master ({@link resolveMaster}), make the link under a temporary name straight inside the
 * container ({@link createThenRename}) and return it as the result's interface. With the master in
 * the container the link is made there; otherwise on the host handle and placed in the container
 * by IFLA_NET_NS_FD, so it never shows on the host.
 */
export async function createOnMaster(options: CreateOnMasterOptions): Promise<InterfaceV100> {
  const { conf, request } = options;
  const what = options.what ?? options.link.kind;
  const master = await resolveMaster(conf, request.netns);
  try {
    const link = await createThenRename({
      container: options.container,
      ifName: request.ifName,
      containerId: request.containerId,
      prefix: options.prefix,
      kind: options.link.kind,
      create: async (name) => {
        const spec = {
          ...options.link,
          name,
          parentIndex: master.link.index,
          ...(conf.mtu > 0 ? { mtu: conf.mtu } : {}),
        } as ChildLinkAdd;
        try {
          await master.nl.link.add(conf.linkInContainer ? spec : { ...spec, netns: request.netns });
        } catch (error) {
          throw (
            options.explainCreateError?.(error, master) ??
            new Error(`failed to create ${what} on master "${master.name}": ${messageOf(error)}`, { cause: error })
          );
        }
      },
    });
    return { name: request.ifName, mac: link.mac ?? '', sandbox: request.netns };
  } finally {
    master.nl.close();
  }
}
