// SPDX-License-Identifier: Apache-2.0
export { dummy } from './dummy.ts';
export { loadConf } from './net-conf.ts';
export type { DummyNetConf } from './net-conf.ts';
