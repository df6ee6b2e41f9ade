// SPDX-License-Identifier: Apache-2.0
import { configureIface } from '@cni/ipam';
import { openNetlink, type Link, type VfInfo } from '@cni/netlink';
import type { AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import { loadConf, type SriovNetConf } from './net-conf.ts';
import { messageOf, openSandbox } from '@cni/link';
import { moveVfIn, moveVfOut } from './netdev.ts';
import type { SriovOptions } from './options.ts';
import { DataDir, originalSteps, type SriovState } from './state.ts';
import { locateVf } from './sysfs.ts';
import { applySteps, netlinkVfControl, type SettingStep } from './vf-control.ts';

/** The PF-side settings the configuration asks for, in the order drivers need them (sriov-cni's). */
export function settingSteps(conf: SriovNetConf, before: VfInfo): SettingStep[] {
  const steps: SettingStep[] = [];
  if (conf.vlan !== undefined) steps.push({ key: 'vlan', settings: { vlan: { vlan: conf.vlan, qos: conf.vlanQoS ?? 0, proto: conf.vlanProto ?? '802.1Q' } } });
  if (conf.mac !== undefined) steps.push({ key: 'mac', settings: { mac: conf.mac } });
  if (conf.minTxRate !== undefined || conf.maxTxRate !== undefined) {
    // A rate not given keeps its value: one key must not reset the other.
    steps.push({ key: 'min_tx_rate/max_tx_rate', settings: { rate: { minTxRate: conf.minTxRate ?? before.minTxRate, maxTxRate: conf.maxTxRate ?? before.maxTxRate } } });
  }
  if (conf.spoofchk !== undefined) steps.push({ key: 'spoofchk', settings: { spoofchk: conf.spoofchk } });
  if (conf.trust !== undefined) steps.push({ key: 'trust', settings: { trust: conf.trust } });
  if (conf.linkState !== undefined) steps.push({ key: 'link_state', settings: { linkState: conf.linkState } });
  return steps;
}

/**
 * ADD: find the VF's PF and number in sysfs, take its lock, refuse a VF another container holds,
 * save its state, apply the PF-side settings, then (kernel mode) move its netdev into the
 * container as CNI_IFNAME and apply IPAM. A DPDK-bound VF gets the PF-side settings only. Any
 * failure undoes what was done, in reverse.
 */
export async function cmdAdd(request: AddRequest, options: SriovOptions = {}): Promise<Result> {
  const conf = loadConf(request);
  let vf;
  try {
    vf = locateVf(conf.deviceID, options);
  } catch (error) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid deviceID "${conf.deviceID}": ${messageOf(error)}`, { cause: error });
  }
  if (!vf.dpdk && vf.netdev === undefined) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid deviceID "${conf.deviceID}": the VF has neither a netdev nor a DPDK driver (driver "${vf.driver}")`);
  }
  const control = options.vfControl ?? netlinkVfControl;
  const data = new DataDir(conf.dataDir);
  const container = await openSandbox(request.netns);
  const unlock = await data.lock(conf.deviceID);
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const holder = data.allocation(conf.deviceID);
    if (holder) {
      const who = holder.containerId === '' ? `netns ${holder.netns}` : `container ${holder.containerId} (interface ${holder.ifName}, netns ${holder.netns})`;
      throw new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `VF ${conf.deviceID} is already in use by ${who}`);
    }
    let before: VfInfo;
    try {
      before = await control.read(vf.pfName, vf.vfIndex);
    } catch (error) {
      throw new Error(`failed to read VF ${vf.vfIndex} of ${vf.pfName}: ${messageOf(error)}`, { cause: error });
    }
    const applied = settingSteps(conf, before);
    let hostLink: Link | undefined;
    if (!vf.dpdk) {
      const host = await openNetlink();
      try {
        hostLink = await host.link.get({ name: vf.netdev! });
      } catch (error) {
        throw new Error(`failed to find the netdev ${vf.netdev} of VF ${conf.deviceID}: ${messageOf(error)}`, { cause: error });
      } finally {
        host.close();
      }
    }
    const state: SriovState = {
      version: 1,
      network: conf.name,
      containerId: request.containerId,
      ifName: request.ifName,
      netns: request.netns,
      deviceID: conf.deviceID,
      pfName: vf.pfName,
      vfIndex: vf.vfIndex,
      dpdk: vf.dpdk,
      applied,
      original: originalSteps(applied, before),
      ...(hostLink ? { hostIfName: hostLink.name, hostMtu: hostLink.mtu, ...(hostLink.mac ? { hostMac: hostLink.mac } : {}) } : {}),
      ...(conf.mac !== undefined && !vf.dpdk ? { netdevMac: conf.mac } : {}),
      ipamType: conf.ipamType,
    };
    // Saved before the first change: a crash from here on leaves what DEL or GC needs to undo it.
    data.saveState(state);
    undo.push(async () => data.removeState(request.containerId, request.ifName));
    data.allocate(conf.deviceID, { containerId: request.containerId, ifName: request.ifName, netns: request.netns });
    undo.push(async () => data.release(conf.deviceID, { containerId: request.containerId, ifName: request.ifName }));

    undo.push(() => applySteps(control, vf.pfName, vf.vfIndex, state.original));
    await applySteps(control, vf.pfName, vf.vfIndex, applied);

    const result: ResultV100 = { cniVersion: '1.1.0', interfaces: [{ name: request.ifName, sandbox: request.netns, pciID: conf.deviceID }] };
    if (hostLink) {
      const host = await openNetlink();
      let moved: Link;
      try {
        moved = await moveVfIn(host, hostLink, container, request.netns, request.ifName, conf.mac);
      } finally {
        host.close();
      }
      undo.push(() => moveVfOut(container, request.ifName, { name: hostLink.name, ...(hostLink.mac ? { mac: hostLink.mac } : {}), mtu: hostLink.mtu }));
      result.interfaces = [{ name: request.ifName, mac: moved.mac ?? '', sandbox: request.netns, pciID: conf.deviceID }];
    } else {
      // DPDK: nothing moves; the interface is reported as sriov-cni does, with the MAC asked for.
      const mac = conf.mac ?? (before.mac !== '00:00:00:00:00:00' ? before.mac : undefined);
      result.interfaces = [{ name: request.ifName, sandbox: request.netns, pciID: conf.deviceID, ...(mac ? { mac } : {}) }];
    }

    if (conf.ipamType !== '') {
      const ipamResult = toCurrentResult(await request.delegate(conf.ipamType));
      undo.push(() => request.delegate(conf.ipamType, undefined, { command: 'DEL' }));
      if (!ipamResult.ips || ipamResult.ips.length === 0) throw new Error('IPAM plugin returned missing IP config');
      result.ips = ipamResult.ips.map((ip) => ({ ...ip, interface: 0 }));
      if (ipamResult.routes) result.routes = ipamResult.routes;
      if (ipamResult.dns) result.dns = ipamResult.dns;
      if (!vf.dpdk) await configureIface(request.ifName, result, { netns: request.netns });
    }
    if (conf.dns !== undefined) result.dns = conf.dns;
    return result;
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  } finally {
    unlock();
    container.close();
  }
}
