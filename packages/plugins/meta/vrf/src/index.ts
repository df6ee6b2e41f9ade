// SPDX-License-Identifier: Apache-2.0
export { vrf } from './vrf.ts';
export { loadConf } from './net-conf.ts';
export type { VrfNetConf } from './net-conf.ts';
