// SPDX-License-Identifier: Apache-2.0
import { validateExpectedInterfaceIps, validateExpectedRoutes } from '@cni/ipam';
import type { Link } from '@cni/netlink';
import { requirePrevResult, type CheckRequest } from '@cni/skel';
import { toCurrentResult, type InterfaceV100 } from '@cni/spec';
import { openHost, openSandbox } from '@cni/link';
import { loadConf } from './net-conf.ts';

function macDiffers(recorded: InterfaceV100, link: Link): boolean {
  return recorded.mac !== undefined && recorded.mac !== '' && recorded.mac.toLowerCase() !== link.mac?.toLowerCase();
}

/**
 * CHECK, as upstream's: the IPAM plugin's CHECK, then from the previous result the bridge (a
 * bridge, same MAC, promiscuous as configured), the container veth (in CNI_NETNS, a veth, same
 * MAC), a host veth that is its peer and a port of the bridge (same MAC), and inside the
 * container every result address and route. The error names the first thing that differs.
 * Unlike upstream, a layer-2 configuration (no IPAM) is checked instead of failing on the
 * missing IPAM plugin name.
 */
export async function cmdCheck(request: CheckRequest): Promise<void> {
  const conf = loadConf(request);
  const container = await openSandbox(request.netns);
  const host = await openHost();
  try {
    if (conf.isLayer3) await request.delegate(conf.ipam!.type);
    const result = toCurrentResult(requirePrevResult(request));
    const interfaces = result.interfaces ?? [];
    const bridgeRecord = interfaces.find((iface) => iface.name === conf.bridge);
    const containerRecord = interfaces.find((iface) => iface.name === request.ifName && iface.sandbox === request.netns);

    if (!bridgeRecord) throw new Error(`CNI created bridge ${conf.bridge} in host namespace was not found`);
    if (bridgeRecord.sandbox) throw new Error(`interface ${bridgeRecord.name} should not be in sandbox`);
    const bridge = await host.link.find({ name: conf.bridge });
    if (!bridge) throw new Error(`interface name ${conf.bridge} not found`);
    if (bridge.kind !== 'bridge') throw new Error(`interface ${conf.bridge} does not have link type of bridge`);
    if (macDiffers(bridgeRecord, bridge)) throw new Error(`bridge interface ${conf.bridge} mac doesn't match: ${bridgeRecord.mac} (found ${bridge.mac})`);
    if (bridge.promisc !== conf.promiscMode) {
      throw new Error(`bridge interface ${conf.bridge} configured promisc mode ${conf.promiscMode} doesn't match current state: ${bridge.promisc}`);
    }

    if (!containerRecord) throw new Error(`sandbox in prevResult doesn't match configured netns: no interface "${request.ifName}" in "${request.netns}"`);
    const contLink = await container.link.find({ name: request.ifName });
    if (!contLink) throw new Error(`CNI created interface in container ${request.ifName} not found`);
    if (contLink.kind !== 'veth') throw new Error(`container interface ${request.ifName} not of type veth`);
    if (macDiffers(containerRecord, contLink)) {
      throw new Error(`interface ${request.ifName} mac ${containerRecord.mac} doesn't match container mac: ${contLink.mac}`);
    }

    let hostVethFound = false;
    for (const record of interfaces) {
      if (record === bridgeRecord || record === containerRecord || record.sandbox) continue;
      const link = await host.link.find({ name: record.name });
      if (!link || link.kind !== 'veth') continue;
      if (link.index !== contLink.peerIndex || link.peerIndex !== contLink.index || link.masterIndex !== bridge.index) continue;
      if (macDiffers(record, link)) throw new Error(`interface ${record.name} mac doesn't match: ${record.mac} not found`);
      hostVethFound = true;
      break;
    }
    if (!hostVethFound) throw new Error(`CNI veth created for bridge ${conf.bridge} was not found`);

    await validateExpectedInterfaceIps(container, request.ifName, result.ips ?? []);
    await validateExpectedRoutes(container, result.routes ?? []);
  } finally {
    container.close();
    host.close();
  }
}
