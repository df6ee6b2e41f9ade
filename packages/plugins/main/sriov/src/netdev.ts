// SPDX-License-Identifier: Apache-2.0
import { openNetlink, type Link, type Netlink } from '@cni/netlink';
import { getCurrentNetns } from '@cni/netns';
import { UndoStack } from '@cni/skel';
import { isLinkGone, messageOf } from '@cni/link';

/**
 * Move the VF netdev into the container as `ifName`, as sriov-cni's SetupVF: down, a temporary
 * name (`temp_<index>`, so it never meets a namesake on either side), the MAC if one was asked
 * for, into the container, renamed, up. Each step is undone on failure.
 */
export async function moveVfIn(host: Netlink, vf: Link, container: Netlink, containerPath: string, ifName: string, mac: string | undefined): Promise<Link> {
  await using steps = new UndoStack();
  const tempName = `temp_${vf.index}`;
  await host.link.setDown({ index: vf.index });
  if (vf.up) steps.defer(() => host.link.setUp({ index: vf.index }));
  await host.link.setName({ index: vf.index }, tempName);
  steps.defer(() => host.link.setName({ index: vf.index }, vf.name));
  if (mac !== undefined && mac !== vf.mac) {
    try {
      await host.link.setMac({ index: vf.index }, mac);
    } catch (error) {
      throw new Error(`failed to set MAC ${mac} on VF netdev ${vf.name}: ${messageOf(error)}`, { cause: error });
    }
    if (vf.mac) steps.defer(() => host.link.setMac({ index: vf.index }, vf.mac!));
  }
  try {
    await host.link.setNetns({ index: vf.index }, containerPath);
  } catch (error) {
    throw new Error(`failed to move VF netdev ${vf.name} to the container: ${messageOf(error)}`, { cause: error });
  }
  const hostNs = getCurrentNetns();
  steps.defer(async () => {
    try {
      await container.link.setNetns({ name: tempName }, hostNs.fd).catch(() => container.link.setNetns({ name: ifName }, hostNs.fd));
    } finally {
      hostNs.close();
    }
  });
  try {
    await container.link.setName({ name: tempName }, ifName);
  } catch (error) {
    throw new Error(`failed to rename VF netdev ${tempName} to ${ifName} in the container: ${messageOf(error)}`, { cause: error });
  }
  steps.defer(() => container.link.setName({ name: ifName }, tempName));
  await container.link.setUp({ name: ifName });
  const link = await container.link.get({ name: ifName });
  steps.dismiss();
  hostNs.close();
  return link;
}

/**
 * Move the VF netdev back to the host under its original name, as sriov-cni's ReleaseVF: down,
 * renamed in the container (so the host never sees the pod's name), its MAC and MTU as before,
 * onto the host. Undefined when it is not in the container (already gone).
 */
export async function moveVfOut(container: Netlink, ifName: string, original: { name: string; mac?: string; mtu?: number }): Promise<boolean> {
  let link: Link;
  try {
    link = await container.link.get({ name: ifName });
  } catch (error) {
    if (isLinkGone(error)) return false;
    throw error;
  }
  await container.link.setDown({ index: link.index });
  const tempName = `temp_${link.index}`;
  await container.link.setName({ index: link.index }, tempName);
  if (original.mac && original.mac !== link.mac) await container.link.setMac({ index: link.index }, original.mac);
  if (original.mtu && original.mtu !== link.mtu) await container.link.setMtu({ index: link.index }, original.mtu);
  const hostNs = getCurrentNetns();
  try {
    await container.link.setNetns({ index: link.index }, hostNs.fd);
  } finally {
    hostNs.close();
  }
  const host = await openNetlink();
  try {
    await host.link.setName({ name: tempName }, original.name);
  } finally {
    host.close();
  }
  return true;
}

/**
 * After the container's namespace went away, the kernel hands a physical VF back to the initial
 * namespace under whatever name it had: put its name, MAC and MTU back, down.
 */
export async function restoreOnHost(currentName: string, original: { name: string; mac?: string; mtu?: number }): Promise<void> {
  const host = await openNetlink();
  try {
    const link = await host.link.find({ name: currentName });
    if (!link) return;
    await host.link.setDown({ index: link.index });
    if (link.name !== original.name) await host.link.setName({ index: link.index }, original.name);
    if (original.mac && original.mac !== link.mac) await host.link.setMac({ index: link.index }, original.mac);
    if (original.mtu && original.mtu !== link.mtu) await host.link.setMtu({ index: link.index }, original.mtu);
  } finally {
    host.close();
  }
}
