// SPDX-License-Identifier: Apache-2.0
import { configureIface, ipamAdd, ipamDel } from '@cni/ipam';
import { openNetlink, type Netlink } from '@cni/netlink';
import { UndoStack, type AddRequest } from '@cni/skel';
import type { Result, ResultV100 } from '@cni/spec';
import { messageOf, openSandbox } from '@cni/link';
import { setBondOptions } from './bond-options.ts';
import { enslaveLinks, findLinks, releaseLinks, takeLinks } from './links.ts';
import { loadConf } from './net-conf.ts';

/**
 * ADD: a bond named CNI_IFNAME in the container over `links` (taken from the host, or already in
 * the container), with the IPAM plugin's addresses and routes when configured, else just up. A
 * failure gives the links back as they were, deletes the bond and releases the lease before the
 * error is returned (bond-cni leaves all of it behind).
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request.conf);
  const container = await openSandbox(request.netns);
  let host: Netlink | undefined;
  try {
    if (!conf.linksInContainer) host = await openNetlink();
    const links = await findLinks(host ?? container, conf);
    await using undo = new UndoStack();
    // From here a failure deletes the bond and gives the links back (what of it exists).
    undo.defer(() => container.link.del({ name: request.ifName }));
    undo.defer(() => releaseLinks(container, host, conf));
    {
      await takeLinks(host ?? container, links, conf, request.netns);
      try {
        await container.link.add({ kind: 'bond', name: request.ifName, mode: conf.mode, miimon: conf.miimon, mtu: conf.mtu });
      } catch (error) {
        throw new Error(`failed to create bond "${request.ifName}": ${messageOf(error)}`, { cause: error });
      }
      const bond = await container.link.get({ name: request.ifName });
      try {
        setBondOptions(request.netns, bond.index, {
          ...(conf.failOverMac === 0 ? {} : { failOverMac: conf.failOverMac }),
          ...(conf.xmitHashPolicy === undefined ? {} : { xmitHashPolicy: conf.xmitHashPolicy }),
          ...(conf.allSlavesActive === undefined ? {} : { allSlavesActive: conf.allSlavesActive }),
          ...(conf.tlbDynamicLb === undefined ? {} : { tlbDynamicLb: conf.tlbDynamicLb }),
        });
      } catch (error) {
        throw new Error(`failed to set the options of bond "${request.ifName}": ${messageOf(error)}`, { cause: error });
      }
      await enslaveLinks(container, conf, bond.index);
      const result: ResultV100 = { cniVersion: '1.1.0', interfaces: [{ name: request.ifName, mac: '', sandbox: request.netns }] };
      if (conf.ipamType !== '') {
        const ipamResult = await ipamAdd(request);
        undo.defer(() => ipamDel(request));
        result.ips = (ipamResult.ips ?? []).map((ip) => ({ ...ip, interface: 0 }));
        if (ipamResult.routes) result.routes = ipamResult.routes;
        await configureIface(request.ifName, result, { netns: request.netns });
      } else {
        await container.link.setUp({ index: bond.index });
      }
      // The bond takes its first link's MAC when enslaving it: read it now.
      result.interfaces![0]!.mac = (await container.link.get({ index: bond.index })).mac ?? '';
      if (conf.dns !== undefined) result.dns = conf.dns;
      undo.dismiss();
      return result;
    }
  } finally {
    host?.close();
    container.close();
  }
}
