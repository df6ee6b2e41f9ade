// SPDX-License-Identifier: Apache-2.0
import { LinkNotFoundError, type Netlink } from '@cni/netlink';
import type { InterfaceV100 } from '@cni/spec';

/**
 * The host end of the container interface's veth, as upstream's `getHostInterface`: the peer
 * index of `ifName` inside the container must name a link of the host namespace that the previous
 * result lists without a sandbox.
 */
export async function findHostVeth(host: Netlink, container: Netlink, ifName: string, interfaces: readonly InterfaceV100[]): Promise<string> {
  if (interfaces.length === 0) throw new Error('no interfaces provided');
  let peerIndex: number | undefined;
  try {
    const link = await container.link.get({ name: ifName });
    peerIndex = link.kind === 'veth' ? link.peerIndex ?? link.parentIndex : undefined;
  } catch (error) {
    if (!LinkNotFoundError.isInstance(error)) throw error;
    throw new Error(`container interface "${ifName}" has no veth peer: link not found`, { cause: error });
  }
  if (peerIndex === undefined || peerIndex <= 0) throw new Error(`container interface "${ifName}" has no veth peer`);
  let name: string;
  try {
    name = (await host.link.get({ index: peerIndex })).name;
  } catch (error) {
    if (!LinkNotFoundError.isInstance(error)) throw error;
    throw new Error(`veth peer with index ${peerIndex} is not in host ns`, { cause: error });
  }
  if (!interfaces.some((iface) => (iface.sandbox ?? '') === '' && iface.name === name)) {
    throw new Error('no veth peer of container interface found in host ns');
  }
  return name;
}
