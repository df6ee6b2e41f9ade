// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import type { VfInfo, VfSettings } from '@cni/netlink';
import type { CheckRequest } from '@cni/skel';
import { toCurrentResult } from '@cni/spec';
import { loadConf } from './net-conf.ts';
import { messageOf, openSandbox } from '@cni/link';
import type { SriovOptions } from './options.ts';
import { DataDir } from './state.ts';
import { netlinkVfControl } from './vf-control.ts';

/** The first way `info` differs from `wanted`, or undefined. */
function differs(wanted: VfSettings, info: VfInfo): string | undefined {
  if (wanted.mac !== undefined && wanted.mac !== info.mac) return `mac is ${info.mac}, not ${wanted.mac}`;
  if (wanted.vlan && (wanted.vlan.vlan !== info.vlan || (wanted.vlan.qos ?? 0) !== info.qos || (wanted.vlan.vlan !== 0 && (wanted.vlan.proto ?? '802.1Q') !== info.vlanProto))) {
    return `vlan is ${info.vlan} qos ${info.qos} proto ${info.vlanProto}, not ${wanted.vlan.vlan} qos ${wanted.vlan.qos ?? 0} proto ${wanted.vlan.proto ?? '802.1Q'}`;
  }
  if (wanted.rate && (wanted.rate.minTxRate !== info.minTxRate || wanted.rate.maxTxRate !== info.maxTxRate)) {
    return `rates are ${info.minTxRate}/${info.maxTxRate} Mbit/s, not ${wanted.rate.minTxRate}/${wanted.rate.maxTxRate}`;
  }
  if (wanted.spoofchk !== undefined && info.spoofchk !== undefined && wanted.spoofchk !== info.spoofchk) return `spoofchk is ${info.spoofchk ? 'on' : 'off'}`;
  if (wanted.trust !== undefined && info.trust !== undefined && wanted.trust !== info.trust) return `trust is ${info.trust ? 'on' : 'off'}`;
  if (wanted.linkState !== undefined && wanted.linkState !== info.linkState) return `link_state is ${info.linkState}, not ${wanted.linkState}`;
  return undefined;
}

/**
 * CHECK, beyond sriov-cni (whose CHECK does nothing): the attachment's state exists, the VF still
 * has every PF-side setting ADD applied, in kernel mode the container has CNI_IFNAME up with the
 * MAC asked for and the result's addresses and routes; then IPAM's CHECK.
 */
export async function cmdCheck(request: CheckRequest, options: SriovOptions = {}): Promise<void> {
  const conf = loadConf(request);
  const data = new DataDir(conf.dataDir);
  const state = data.loadState(request.containerId, request.ifName);
  if (!state) throw new Error(`no state for container ${request.containerId} interface ${request.ifName} in ${conf.dataDir}: ADD did not run or DEL already did`);
  if (state.deviceID !== conf.deviceID) throw new Error(`the attachment holds VF ${state.deviceID}, not deviceID ${conf.deviceID}`);
  const control = options.vfControl ?? netlinkVfControl;
  const info = await control.read(state.pfName, state.vfIndex);
  for (const step of state.applied) {
    const problem = differs(step.settings, info);
    if (problem) throw new Error(`VF ${state.vfIndex} of ${state.pfName}: ${step.key} changed since ADD: ${problem}`);
  }
  if (conf.ipamType !== '') await request.delegate(conf.ipamType);
  if (state.dpdk) return;
  const container = await openSandbox(request.netns);
  try {
    let link;
    try {
      link = await container.link.get({ name: request.ifName });
    } catch (error) {
      throw new Error(`failed to find VF netdev ${request.ifName} in the container: ${messageOf(error)}`, { cause: error });
    }
    if (!link.up) throw new Error(`VF netdev ${request.ifName} is down in the container`);
    if (state.netdevMac !== undefined && link.mac !== state.netdevMac) throw new Error(`VF netdev ${request.ifName} has MAC ${link.mac}, not ${state.netdevMac}`);
    const prev = request.prevResult;
    if (prev) {
      const result = toCurrentResult(prev);
      await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
      await validateExpectedRoutes(container, result.routes ?? []);
    }
  } finally {
    container.close();
  }
}
