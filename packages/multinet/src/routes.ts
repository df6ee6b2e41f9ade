// SPDX-License-Identifier: Apache-2.0
import { isIP } from 'node:net';

/**
 * Give the pod's default route to `ifName` (a selection's `default-route`, spec §4.1.2): the
 * default routes of every other interface in the container's namespace are removed, then one
 * default route per gateway (each family once) is added on `ifName`. An empty list only
 * removes them. Netlink is loaded here, only by the pods that ask for it.
 */
export async function applyDefaultRoute(netns: string, ifName: string, gateways: readonly string[]): Promise<void> {
  const { openNetlink } = await import('@cni/netlink');
  const nl = await openNetlink({ netns });
  try {
    const owner = await nl.link.get({ name: ifName });
    for (const family of [4, 6] as const) {
      for (const route of await nl.route.list({ family })) {
        if (route.dst !== 'default' || route.linkIndex === owner.index) continue;
        await nl.route.del({
          dst: 'default',
          family,
          ...(route.gateway ? { gateway: route.gateway } : {}),
          ...(route.linkIndex !== undefined ? { link: { index: route.linkIndex } } : {}),
          ...(route.metric !== undefined ? { metric: route.metric } : {}),
        });
      }
    }
    const seen = new Set<number>();
    for (const gateway of gateways) {
      const family = isIP(gateway) as 4 | 6;
      if (seen.has(family)) continue;
      seen.add(family);
      await nl.route.replace({ dst: 'default', family, gateway, link: { name: ifName } });
    }
  } finally {
    nl.close();
  }
}
