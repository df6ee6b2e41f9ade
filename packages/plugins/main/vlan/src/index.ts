// SPDX-License-Identifier: Apache-2.0
export { vlan } from './vlan.ts';
export { loadConf } from './net-conf.ts';
export type { VlanNetConf } from './net-conf.ts';
