// SPDX-License-Identifier: Apache-2.0
import { argString, type PluginRequest } from '@cni/skel';
import { decodeConfig, type NetConf } from '@cni/spec';
import { macByPrecedence } from '@cni/link';

/** The tap configuration, validated, with upstream's defaults applied. */
export interface TapNetConf extends NetConf {
  /** Create the device with IFF_MULTI_QUEUE. */
  multiQueue: boolean;
  /** 0 leaves the kernel's default. */
  mtu: number;
  /** The MAC to give the device: `runtimeConfig.mac`, else CNI_ARGS `MAC`, else the `mac` key. */
  mac: string | undefined;
  /** The user id that may open the device. */
  owner: number | undefined;
  /** The group id that may open the device. */
  group: number | undefined;
  /** The SELinux label the device is created under (applied where SELinux is enabled). */
  selinuxContext: string;
  /** A bridge inside the container to make the tap a port of. */
  bridge: string;
  /** The IPAM plugin, `''` for an L2-only device. */
  ipamType: string;
}

/**
 * Read and validate the configuration as upstream's `loadConf`: the keys' types (owner and group
 * are uint32, as Go's `*uint32`), and the MAC from `mac`, CNI_ARGS `MAC` and `runtimeConfig.mac`,
 * the later overriding the earlier.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'loadArgs'>): TapNetConf {
  const conf = request.conf;
  const keys = decodeConfig(conf, (r) => ({
    multiQueue: r.bool('multiQueue'),
    mtu: r.int('mtu', { min: 0 }, 0),
    mac: r.optString('mac'),
    runtimeMac: r.optObject('runtimeConfig')?.optString('mac'),
    owner: r.optInt('owner', { min: 0, max: 0xffff_ffff }),
    group: r.optInt('group', { min: 0, max: 0xffff_ffff }),
    selinuxContext: r.optString('selinuxContext') ?? '',
    bridge: r.optString('bridge') ?? '',
    ipamType: r.optObject('ipam')?.optString('type') ?? '',
  }));
  const mac = macByPrecedence({ key: keys.mac, args: request.loadArgs({ MAC: argString }).MAC, runtime: keys.runtimeMac });
  const { runtimeMac: _runtimeMac, ...rest } = keys;
  return { ...conf, ...rest, mac };
}
