// SPDX-License-Identifier: Apache-2.0
// @cni/sys's: node:crypto would cost this plugin 6-9 ms of its start.
import { randomBytes } from '@cni/sys';
import { openNetlink, type Link, type Netlink } from '@cni/netlink';
import { createNetns, deleteNetns, getCurrentNetns, type Netns } from '@cni/netns';
import { UndoStack } from '@cni/skel';
import { messageOf } from '@cni/link';

/**
 * A namespace of our own to rename the device in, so that udev and NetworkManager never see the
 * device under a temporary name on either side (upstream v1.6+). Its name is removed at once: the
 * open descriptor keeps it alive, and closing it ends it.
 */
function tempNetns(): Netns {
  let temp: Netns;
  try {
    temp = createNetns(`cni-hd-${randomBytes(6).toString('hex')}`);
  } catch (error) {
    throw new Error(`failed to create tempNS: ${messageOf(error)}`, { cause: error });
  }
  deleteNetns(temp);
  return temp;
}

/**
 * Move `hostDev` into the container as `ifName`, as upstream's `moveLinkIn`: into a temporary
 * namespace, renamed there, its original name kept as the link alias, into the container, up.
 * Each step is undone on failure, and the device ends back on the host, up if it was.
 */
export async function moveLinkIn(host: Netlink, hostDev: Link, container: Netlink, containerPath: string, ifName: string): Promise<Link> {
  const hostDevName = hostDev.name;
  const temp = tempNetns();
  const hostNs = getCurrentNetns();
  let tempNl: Netlink | undefined;
  try {
    // Disposed (run unless dismissed) before the finally below closes what the steps use.
    await using steps = new UndoStack();
    // The last step of an undo: the device, back on the host, up again if it was.
    if (hostDev.up) steps.defer(() => host.link.setUp({ name: hostDevName }));
    try {
      await host.link.setNetns({ index: hostDev.index }, temp.fd);
    } catch (error) {
      throw new Error(`failed to move "${hostDevName}" to tempNS: ${messageOf(error)}`, { cause: error });
    }
    tempNl = await openNetlink({ netns: temp.fd });
    const inTemp = tempNl;
    // Closing a namespace that still holds the device would destroy a virtual one and send a
    // physical one to the initial namespace, not to ours: move it back actively.
    steps.defer(() => inTemp.link.setNetns({ name: hostDevName }, hostNs.fd));
    try {
      await inTemp.link.setName({ name: hostDevName }, ifName);
    } catch (error) {
      throw new Error(`failed to rename host device "${hostDevName}" to "${ifName}": ${messageOf(error)}`, { cause: error });
    }
    steps.defer(() => inTemp.link.setName({ name: ifName }, hostDevName));
    try {
      await inTemp.link.setAlias({ name: ifName }, hostDevName);
    } catch (error) {
      throw new Error(`failed to set alias to "${hostDevName}": ${messageOf(error)}`, { cause: error });
    }
    steps.defer(() => inTemp.link.setAlias({ name: ifName }, ''));
    try {
      await inTemp.link.setNetns({ name: ifName }, containerPath);
    } catch (error) {
      throw new Error(`failed to move "${ifName}" (host: "${hostDevName}") to container NS: ${messageOf(error)}`, { cause: error });
    }
    steps.defer(() => container.link.setNetns({ name: ifName }, temp.fd));
    try {
      await container.link.setUp({ name: ifName });
    } catch (error) {
      throw new Error(`failed to set "${ifName}" up: ${messageOf(error)}`, { cause: error });
    }
    const link = await container.link.get({ name: ifName });
    steps.dismiss();
    return link;
  } finally {
    tempNl?.close();
    hostNs.close();
    temp.close();
  }
}

/**
 * Move the container's `ifName` back to the host under the name kept in its alias, as upstream's
 * `moveLinkOut`: into a temporary namespace, renamed, alias cleared, onto the host, left down (its
 * state before ADD is not known). Each step is undone on failure, leaving it in the container.
 */
export async function moveLinkOut(container: Netlink, containerPath: string, ifName: string): Promise<void> {
  let contDev: Link;
  try {
    contDev = await container.link.get({ name: ifName });
  } catch (error) {
    throw new Error(`failed to find "${ifName}" in containerNS: ${messageOf(error)}`, { cause: error });
  }
  const hostDevName = contDev.alias ?? '';
  if (hostDevName === '') throw new Error(`failed to find original ifname for "${ifName}" (alias is not set)`);
  const temp = tempNetns();
  const hostNs = getCurrentNetns();
  let tempNl: Netlink | undefined;
  try {
    // Disposed (run unless dismissed) before the finally below closes what the steps use.
    await using steps = new UndoStack();
    if (contDev.up) steps.defer(() => container.link.setUp({ name: ifName }));
    try {
      await container.link.setNetns({ name: ifName }, temp.fd);
    } catch (error) {
      throw new Error(`failed to move "${ifName}" to tempNS: ${messageOf(error)}`, { cause: error });
    }
    tempNl = await openNetlink({ netns: temp.fd });
    const inTemp = tempNl;
    steps.defer(() => inTemp.link.setNetns({ name: ifName }, containerPath));
    try {
      await inTemp.link.setName({ name: ifName }, hostDevName);
    } catch (error) {
      throw new Error(`failed to rename device "${ifName}" to "${hostDevName}": ${messageOf(error)}`, { cause: error });
    }
    steps.defer(() => inTemp.link.setName({ name: hostDevName }, ifName));
    try {
      await inTemp.link.setAlias({ name: hostDevName }, '');
    } catch (error) {
      throw new Error(`failed to unset alias of "${hostDevName}": ${messageOf(error)}`, { cause: error });
    }
    steps.defer(() => inTemp.link.setAlias({ name: hostDevName }, hostDevName));
    try {
      await inTemp.link.setNetns({ name: hostDevName }, hostNs.fd);
    } catch (error) {
      throw new Error(`failed to move "${hostDevName}" to hostNS: ${messageOf(error)}`, { cause: error });
    }
    steps.dismiss();
  } finally {
    tempNl?.close();
    hostNs.close();
    temp.close();
  }
}
