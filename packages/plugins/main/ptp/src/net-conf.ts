// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, decodeConfig, type NetConf } from '@cni/spec';

/** The masquerade backends `ipMasqBackend` names. */
export const IP_MASQ_BACKENDS = ['iptables', 'nftables'] as const;

/** ptp's configuration: the standard keys plus its own, defaults applied. */
export interface PtpNetConf extends NetConf {
  /** Masquerade traffic from the container's addresses leaving their subnet. Default false. */
  ipMasq: boolean;
  /** `iptables` or `nftables`; undefined picks iptables unless only nftables is usable (upstream v1.6). */
  ipMasqBackend: (typeof IP_MASQ_BACKENDS)[number] | undefined;
  /** Both veth ends' MTU; 0 (the default) leaves the kernel's. */
  mtu: number;
  /** Required: ptp has no address without its IPAM plugin. */
  ipam: NonNullable<NetConf['ipam']>;
}

/**
 * Read ptp's keys as upstream's `NetConf` does, with the validation upstream leaves to later
 * failures done up front: code 7 naming the key and value, before anything is made.
 */
export function loadConf(conf: NetConf): PtpNetConf {
  const keys = decodeConfig(conf, (r) => ({
    ipMasq: r.bool('ipMasq'),
    ipMasqBackend: r.optOneOf('ipMasqBackend', IP_MASQ_BACKENDS),
    mtu: r.int('mtu', { min: 0, max: 65535 }, 0),
  }));
  const ipam = conf.ipam;
  if (ipam === undefined || ipam === null || typeof ipam !== 'object' || typeof ipam.type !== 'string' || ipam.type === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'ipam.type must be specified: ptp needs an IPAM plugin');
  }
  return { ...conf, ...keys, ipam };
}
