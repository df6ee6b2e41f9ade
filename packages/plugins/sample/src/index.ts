// SPDX-License-Identifier: Apache-2.0
export { sample } from './sample.ts';
export { loadConf } from './net-conf.ts';
export type { SampleNetConf } from './net-conf.ts';
