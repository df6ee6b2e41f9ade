// SPDX-License-Identifier: Apache-2.0
export { portmap } from './portmap.ts';
export {
  loadConf,
  loadRequestConf,
  parsePortMappings,
  containerAddresses,
  backendOfConditions,
  PORTMAP_BACKENDS,
  PORTMAP_PROTOCOLS,
  DEFAULT_MARK_MASQ_BIT,
} from './net-conf.ts';
export type { PortmapNetConf, PortmapRequestConf, PortMapEntry, PortmapBackend, ContainerAddress } from './net-conf.ts';
export {
  IptablesMapper,
  dnatChainName,
  dnatComment,
  parseDnatComment,
  dnatRules,
  TOP_LEVEL_DNAT_CHAIN,
  SET_MARK_CHAIN,
  MARK_MASQ_CHAIN,
  OLD_TOP_LEVEL_SNAT_CHAIN,
} from './iptables-mapper.ts';
export { NftablesMapper, nftAddScript, nftNetworkChain, NFT_TABLE } from './nftables-mapper.ts';
