// SPDX-License-Identifier: Apache-2.0
export { macvlan } from './macvlan.ts';
export { loadConf, MACVLAN_MODES } from './net-conf.ts';
export type { MacvlanNetConf, MacvlanPluginMode } from './net-conf.ts';
