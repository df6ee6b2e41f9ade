// SPDX-License-Identifier: Apache-2.0
export { bandwidth } from './bandwidth.ts';
export { loadConf, isZero } from './net-conf.ts';
export type { Bandwidth, BandwidthNetConf } from './net-conf.ts';
export { ifbName, ifbAlias, tbfFor, LATENCY_MS, IFB_PREFIX, IFB_ALIAS_PREFIX } from './shaping.ts';
