// SPDX-License-Identifier: Apache-2.0
export { sbr } from './sbr.ts';
export { loadConf, sourceAddresses, FIRST_TABLE } from './net-conf.ts';
export type { SbrNetConf, SourceAddress } from './net-conf.ts';
