// SPDX-License-Identifier: Apache-2.0
export { loopback } from './loopback.ts';
export { loadConf } from './net-conf.ts';
export type { LoopbackNetConf } from './net-conf.ts';
