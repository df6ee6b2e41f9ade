// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, decodeConfig, type NetConf } from '@cni/spec';
import { readChildMtu } from '@cni/link';

/** The vlan configuration, validated, with upstream's defaults applied. */
export interface VlanNetConf extends NetConf {
  /** The parent link (required). */
  master: string;
  /** The 802.1Q VLAN id, 0 to 4094; default 0. */
  vlanId: number;
  /** 0 inherits the master's MTU; anything else must not exceed it. */
  mtu: number;
  /** The master lives in the container's namespace rather than the host's. */
  linkInContainer: boolean;
  /** The IPAM plugin to delegate to (required). */
  ipamType: string;
}

/**
 * Read and validate the configuration as upstream's `loadConf` does before it asks the kernel:
 * `master` and `ipam` required, `vlanId` in [0, 4094], `mtu` not negative (the bound by the
 * master's MTU needs the kernel: see `resolveMaster`).
 */
export function loadConf(conf: NetConf): VlanNetConf {
  const keys = decodeConfig(conf, (r) => ({
    master: r.optString('master') ?? '',
    vlanId: r.int('vlanId', { min: 0, max: 4094 }, 0),
    mtu: readChildMtu(r),
    linkInContainer: r.bool('linkInContainer'),
    ipamType: r.optObject('ipam')?.optString('type') ?? '',
  }));
  if (keys.master === '') {
    throw new CniError(
      CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
      '"master" field is required. It specifies the host interface name to create the VLAN for',
    );
  }
  if (keys.ipamType === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'vlan interface requires an IPAM configuration', {
      details: `ipam: ${JSON.stringify(conf.ipam ?? null)}`,
    });
  }
  return { ...conf, ...keys };
}
