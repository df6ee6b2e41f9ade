// SPDX-License-Identifier: Apache-2.0
export { tap } from './tap.ts';
export { loadConf } from './net-conf.ts';
export type { TapNetConf } from './net-conf.ts';
export { SELINUXFS } from './selinux.ts';
