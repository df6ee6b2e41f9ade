// SPDX-License-Identifier: Apache-2.0
export { bridge } from './bridge.ts';
export { loadConf, collectVlanTrunk, IP_MASQ_BACKENDS, DEFAULT_BRIDGE } from './net-conf.ts';
export type { BridgeNetConf, VlanTrunk } from './net-conf.ts';
export { calcGateways } from './cmd-add.ts';
