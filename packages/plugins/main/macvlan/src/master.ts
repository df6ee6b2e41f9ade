// SPDX-License-Identifier: Apache-2.0
import { openNetlink, type Link, type Netlink } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { isLinkGone, openSandbox } from './internal/sandbox.ts';
import type { MacvlanNetConf } from './net-conf.ts';

/** The master link and a handle on the namespace it lives in; close `nl` when done. */
export interface ResolvedMaster {
  readonly nl: Netlink;
  readonly link: Link;
}

/**
 * The interface of the first default route (IPv4 routes list first), as upstream's
 * `getDefaultRouteInterfaceName`: the main table of the namespace `nl` is bound to.
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
 * Find the master (the default-route interface when `master` is empty) in the host's namespace,
 * or in the container's with `linkInContainer`, and bound the MTU by the master's, as upstream's
 * `loadConf`. Fills `conf.master` in.
 */
export async function resolveMaster(conf: MacvlanNetConf, netns: string): Promise<ResolvedMaster> {
  const nl = conf.linkInContainer ? await openSandbox(netns) : await openNetlink();
  try {
    if (conf.master === '') conf.master = await defaultRouteInterface(nl);
    let link: Link;
    try {
      link = await nl.link.get({ name: conf.master });
    } catch (error) {
      if (isLinkGone(error)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `failed to lookup master "${conf.master}": link not found`, { cause: error });
      throw error;
    }
    if (conf.mtu > link.mtu) {
      throw new CniError(CNI_ERROR_CODES.INTERNAL, `invalid MTU ${conf.mtu}, must be [0, master MTU(${link.mtu})]`);
    }
    return { nl, link };
  } catch (error) {
    nl.close();
    throw error;
  }
}
