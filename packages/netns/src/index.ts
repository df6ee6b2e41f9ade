// SPDX-License-Identifier: Apache-2.0
export {
  Netns,
  NETNS_RUN_DIR,
  NSFS_MAGIC,
  isNetns,
  isSameNetns,
  openNetns,
  getCurrentNetns,
  createNetns,
  deleteNetns,
  withNetns,
} from './netns.ts';
export type { NetnsRunDirOptions, Synchronous } from './netns.ts';

export { sysctlPath, readSysctl, writeSysctl } from './sysctl.ts';
export type { SysctlPathOptions, SysctlOptions } from './sysctl.ts';

export { NetnsError, NetnsNotFoundError, NotANetnsError, NetnsExistsError, SysctlError } from './errors.ts';
export type { NetnsErrorOptions, SysctlErrorOptions } from './errors.ts';
