// SPDX-License-Identifier: Apache-2.0
export { ipvlan } from './ipvlan.ts';
export { loadConf, IPVLAN_MODES } from './net-conf.ts';
export type { IpvlanNetConf } from './net-conf.ts';
