// SPDX-License-Identifier: Apache-2.0
import type { IpvlanMode } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError, decodeConfig, toCurrentResult, type NetConf, type Result, type ResultV100 } from '@cni/spec';
import { readChildMtu } from '@cni/link';

/** The ipvlan modes the plugin accepts. */
export const IPVLAN_MODES = ['l2', 'l3', 'l3s'] as const satisfies readonly IpvlanMode[];

/** The ipvlan configuration, validated, with upstream's defaults applied. */
export interface IpvlanNetConf extends NetConf {
  /**
   * The parent link: the configured one; without it, the single interface of prevResult when
   * chained, else `''` until resolved to the interface of the first default route.
   */
  master: string;
  /** Default `l2`. */
  mode: IpvlanMode;
  /** 0 inherits the master's MTU; anything else must not exceed it. */
  mtu: number;
  /**
   * The master lives in the container's namespace: set by the key, or when the master is the
   * interface of prevResult and that interface's sandbox is the container.
   */
  linkInContainer: boolean;
  /** The IPAM plugin to delegate to; `''` when chained (prevResult's addresses are used). */
  ipamType: string;
  /** prevResult in the 1.x form, when chained. */
  chained: ResultV100 | undefined;
}

/**
 * Read and validate the configuration as upstream's `loadConf`, without asking the kernel: every
 * key's type, the mode, and the chained master (the single named interface of prevResult when no
 * master is configured; anything else is an error). The default-route master and the MTU bound
 * need the kernel: see `resolveMaster`.
 */
export function loadConf(conf: NetConf, prevResult: Result | undefined, netns: string): IpvlanNetConf {
  const keys = decodeConfig(conf, (r) => ({
    master: r.optString('master') ?? '',
    modeText: r.optString('mode') ?? '',
    mtu: readChildMtu(r),
    linkInContainer: r.bool('linkInContainer'),
    ipamType: r.optObject('ipam')?.optString('type') ?? '',
  }));
  let { master, linkInContainer } = keys;
  const mode = keys.modeText === '' ? 'l2' : keys.modeText;
  if (!(IPVLAN_MODES as readonly string[]).includes(mode)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `unknown ipvlan mode: "${keys.modeText}"`, { details: 'mode must be one of l2, l3, l3s' });
  }
  const chained = prevResult === undefined ? undefined : toCurrentResult(prevResult);
  if (master === '' && chained !== undefined) {
    const interfaces = chained.interfaces ?? [];
    const only = interfaces.length === 1 ? interfaces[0] : undefined;
    if (!only?.name) {
      throw new CniError(
        CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
        'chained master failure. PrevResult lacks a single named interface',
        { details: `prevResult has ${interfaces.length} interfaces (${interfaces.map((iface) => JSON.stringify(iface.name)).join(', ')}) and no master is configured` },
      );
    }
    master = only.name;
    // The previous plugin's interface lives in the container when its sandbox says so.
    if (only.sandbox !== undefined && only.sandbox !== '' && only.sandbox === netns) linkInContainer = true;
  }
  return { ...conf, master, mode: mode as IpvlanMode, mtu: keys.mtu, linkInContainer, ipamType: keys.ipamType, chained };
}
