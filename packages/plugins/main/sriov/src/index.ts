// SPDX-License-Identifier: Apache-2.0
export { sriov, createSriov } from './sriov.ts';
export type { SriovOptions } from './options.ts';
export { loadConf, DEFAULT_DATA_DIR } from './net-conf.ts';
export type { SriovNetConf } from './net-conf.ts';
export { USERSPACE_DRIVERS, locateVf } from './sysfs.ts';
export type { SysfsOptions, VfLocation } from './sysfs.ts';
export { netlinkVfControl } from './vf-control.ts';
export type { VfControl, SettingStep } from './vf-control.ts';
export type { SriovState } from './state.ts';
