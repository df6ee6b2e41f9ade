// SPDX-License-Identifier: Apache-2.0
import { argString, type PluginRequest } from '@cni/skel';
import { invalidConfigError, type NetConf } from '@cni/spec';
import { ipamType, optionalBool, optionalString, parseMac, UINT32_MAX } from './internal/keys.ts';

/** The tap configuration, validated, with upstream's defaults applied. */
export interface TapNetConf extends NetConf {
  /** Create the device with IFF_MULTI_QUEUE. */
  multiQueue: boolean;
  /** 0 leaves the kernel's default. */
  mtu: number;
  /** The MAC to give the device: CNI_ARGS `MAC`, then `runtimeConfig.mac`, override the `mac` key. */
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

function optionalId(conf: Record<string, unknown>, key: string): number | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw invalidConfigError(key, value, `an integer in [0, ${UINT32_MAX}]`);
  }
  return value;
}

/**
 * Read and validate the configuration as upstream's `loadConf`: the keys' types (owner and group
 * are uint32, as Go's `*uint32`), and the MAC from `mac`, CNI_ARGS `MAC` and `runtimeConfig.mac`,
 * the later overriding the earlier.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'loadArgs'>): TapNetConf {
  const conf = request.conf;
  const mtu = conf['mtu'];
  if (mtu !== undefined && mtu !== null && (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 0)) {
    throw invalidConfigError('mtu', mtu, 'a non-negative integer');
  }
  let mac = optionalString(conf, 'mac');
  let macSource = 'mac';
  const args = request.loadArgs({ MAC: argString });
  if (args.MAC) {
    mac = args.MAC;
    macSource = 'CNI_ARGS MAC';
  }
  const runtimeMac = optionalString(conf.runtimeConfig ?? {}, 'mac', 'runtimeConfig.mac');
  if (runtimeMac) {
    mac = runtimeMac;
    macSource = 'runtimeConfig.mac';
  }
  return {
    ...conf,
    multiQueue: optionalBool(conf, 'multiQueue'),
    mtu: typeof mtu === 'number' ? mtu : 0,
    mac: mac ? parseMac(mac, macSource) : undefined,
    owner: optionalId(conf, 'owner'),
    group: optionalId(conf, 'group'),
    selinuxContext: optionalString(conf, 'selinuxContext') ?? '',
    bridge: optionalString(conf, 'bridge') ?? '',
    ipamType: ipamType(conf),
  };
}
