// SPDX-License-Identifier: Apache-2.0
import type { SysfsOptions } from './sysfs.ts';
import type { VfControl } from './vf-control.ts';

/** Options of {@link createSriov}: for tests and embedders, never reachable from a configuration. */
export interface SriovOptions extends SysfsOptions {
  /** The PF-side step; default `@cni/netlink`'s `nl.vf` in the plugin's namespace. */
  readonly vfControl?: VfControl;
}
