// SPDX-License-Identifier: Apache-2.0
export { hostDevice, createHostDevice } from './host-device.ts';
export type { HostDeviceOptions } from './host-device.ts';
export { loadConf } from './net-conf.ts';
export type { HostDeviceNetConf } from './net-conf.ts';
export { USERSPACE_DRIVERS } from './sysfs.ts';
export type { SysfsOptions } from './sysfs.ts';
