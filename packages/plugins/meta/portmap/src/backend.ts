// SPDX-License-Identifier: Apache-2.0
import { chooseBackend } from '@cni/netfilter';
import { IptablesMapper } from './iptables-mapper.ts';
import type { PortmapBackend, PortmapNetConf } from './net-conf.ts';
import { NftablesMapper } from './nftables-mapper.ts';

/** What both backends do. */
export type PortMapper = IptablesMapper | NftablesMapper;

/** The backend the configuration names, or the one detection picks (iptables unless only nftables works). */
export async function resolveBackend(conf: PortmapNetConf): Promise<PortmapBackend> {
  return chooseBackend(conf.backend);
}

/**
 * The mapper for a command: the configured backend's, else iptables when its nat table can be
 * listed (that listing then serves the command's first batch), else the one detection picks.
 */
export async function resolveMapper(conf: PortmapNetConf): Promise<PortMapper> {
  if (conf.backend === undefined) {
    const mapper = new IptablesMapper();
    if (await mapper.usable()) return mapper;
  }
  return mapperFor(await resolveBackend(conf));
}

/** The mapper of a backend. */
export function mapperFor(backend: PortmapBackend): PortMapper {
  return backend === 'nftables' ? new NftablesMapper() : new IptablesMapper();
}
