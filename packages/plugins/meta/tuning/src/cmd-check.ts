// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError } from '@cni/netlink';
import { readSysctl } from '@cni/netns';
import type { CheckRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { sysctlFile } from './backup.ts';
import { requirePrevResult } from './cmd-add.ts';
import { loadConf, type LoadConfOptions } from './net-conf.ts';
import { openSandbox } from '@cni/link';

const mismatch = (what: string, ifName: string, configured: unknown, current: unknown) =>
  new CniError(CNI_ERROR_CODES.INTERNAL, `tuning configured ${what} of "${ifName}" is ${String(configured)}, current value is ${String(current)}`);

/**
 * CHECK: every sysctl, the MAC, promiscuous mode (strictly both ways, as upstream: a link left
 * promiscuous without `promisc: true` fails), MTU, all-multicast mode and tx queue length.
 */
export async function cmdCheck(request: CheckRequest, options: LoadConfOptions = {}): Promise<void> {
  const conf = loadConf(request, options);
  requirePrevResult(conf.parsedPrevResult);
  const { ifName, netns } = request;
  for (const [key, value] of conf.sysctl) {
    const current = readSysctl(sysctlFile(key, ifName), { netns });
    if (current !== value) throw mismatch(`sysctl "${key}"`, ifName, value, current);
  }
  const nl = await openSandbox(netns);
  try {
    let link;
    try {
      link = await nl.link.get({ name: ifName });
    } catch (error) {
      if (LinkNotFoundError.isInstance(error)) throw new CniError(CNI_ERROR_CODES.INTERNAL, `cannot find container link "${ifName}"`, { cause: error });
      throw error;
    }
    if (conf.mac !== undefined && conf.mac !== link.mac) throw mismatch('MAC address', ifName, conf.mac, link.mac);
    if (conf.promisc !== link.promisc) throw mismatch('promiscuous mode', ifName, conf.promisc, link.promisc);
    if (conf.mtu !== 0 && conf.mtu !== link.mtu) throw mismatch('MTU', ifName, conf.mtu, link.mtu);
    if (conf.allmulti !== undefined && conf.allmulti !== link.allmulti) throw mismatch('all-multicast mode', ifName, conf.allmulti, link.allmulti);
    if (conf.txQLen !== undefined && conf.txQLen !== link.txQueueLen) throw mismatch('transmit queue length', ifName, conf.txQLen, link.txQueueLen);
  } finally {
    nl.close();
  }
}
