// SPDX-License-Identifier: Apache-2.0
import type { MacvlanMode } from '@cni/netlink';
import { argString, type PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, decodeConfig, type NetConf } from '@cni/spec';
import { macByPrecedence, readChildMtu } from '@cni/link';

/** The macvlan modes the plugin accepts; `source` (a kernel mode) is not one of them, as upstream. */
export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;

/** A macvlan mode the plugin accepts. */
export type MacvlanPluginMode = (typeof MACVLAN_MODES)[number] & MacvlanMode;

/** The macvlan configuration, validated, with upstream's defaults applied. */
export interface MacvlanNetConf extends NetConf {
  /** The parent link; `''` until resolved: then the interface of the first default route. */
  master: string;
  /** Default `bridge`. */
  mode: MacvlanPluginMode;
  /** 0 inherits the master's MTU. */
  mtu: number;
  /** The MAC to give the link: `runtimeConfig.mac`, else CNI_ARGS `MAC`, else the `mac` key. */
  mac: string | undefined;
  /** The master lives in the container's namespace rather than the host's. */
  linkInContainer: boolean;
  /** The broadcast queue length; 0 leaves the kernel's default. */
  bcqueuelen: number;
  /** The IPAM plugin to delegate to; `''` for an L2-only link. */
  ipamType: string;
}

/**
 * Read and validate the configuration as upstream's `loadConf`, without asking the kernel
 * anything: every key's type, the mode, the MAC (from the config, CNI_ARGS `MAC` and
 * `runtimeConfig.mac`, in that order of precedence, lowest first). The master's default and its
 * MTU bound need the kernel: see `resolveMaster`.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'loadArgs'>): MacvlanNetConf {
  const conf = request.conf;
  const keys = decodeConfig(conf, (r) => ({
    master: r.optString('master') ?? '',
    modeText: r.optString('mode') ?? '',
    mtu: readChildMtu(r),
    mac: r.optString('mac'),
    runtimeMac: r.optObject('runtimeConfig')?.optString('mac'),
    linkInContainer: r.bool('linkInContainer'),
    bcqueuelen: r.int('bcqueuelen', { min: 0, max: 0xffff_ffff }, 0),
    ipamType: r.optObject('ipam')?.optString('type') ?? '',
  }));
  const mode = keys.modeText === '' ? 'bridge' : keys.modeText;
  if (!(MACVLAN_MODES as readonly string[]).includes(mode)) {
    // Upstream's wording and code (a plain error), so a runtime sees what the reference prints.
    throw new CniError(CNI_ERROR_CODES.INTERNAL, `unknown macvlan mode: "${keys.modeText}"`);
  }
  const mac = macByPrecedence({ key: keys.mac, args: request.loadArgs({ MAC: argString }).MAC, runtime: keys.runtimeMac });
  return {
    ...conf,
    master: keys.master,
    mode: mode as MacvlanPluginMode,
    mtu: keys.mtu,
    mac,
    linkInContainer: keys.linkInContainer,
    bcqueuelen: keys.bcqueuelen,
    ipamType: keys.ipamType,
  };
}
