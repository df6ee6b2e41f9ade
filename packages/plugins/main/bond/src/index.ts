// SPDX-License-Identifier: Apache-2.0
export { bond } from './bond.ts';
export { loadConf, BOND_MODES } from './net-conf.ts';
export type { BondNetConf } from './net-conf.ts';
