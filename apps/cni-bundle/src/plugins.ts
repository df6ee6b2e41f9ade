// SPDX-License-Identifier: Apache-2.0
import { calicoIpam } from '@cni/ipam-calico/plugin';
import { dhcp } from '@cni/ipam-dhcp';
import { hostLocal } from '@cni/ipam-hostlocal';
import { staticIpam } from '@cni/ipam-static';
import { multinet } from '@cni/multinet';
import type { CniPlugin } from '@cni/skel';
import { bandwidth } from '@cni/plugin-bandwidth';
import { bond } from '@cni/plugin-bond';
import { bridge } from '@cni/plugin-bridge';
import { dummy } from '@cni/plugin-dummy';
import { firewall } from '@cni/plugin-firewall';
import { hostDevice } from '@cni/plugin-host-device';
import { ipvlan } from '@cni/plugin-ipvlan';
import { loopback } from '@cni/plugin-loopback';
import { macvlan } from '@cni/plugin-macvlan';
import { portmap } from '@cni/plugin-portmap';
import { ptp } from '@cni/plugin-ptp';
import { sample } from '@cni/plugin-sample';
import { sbr } from '@cni/plugin-sbr';
import { sriov } from '@cni/plugin-sriov';
import { tap } from '@cni/plugin-tap';
import { tuning } from '@cni/plugin-tuning';
import { vlan } from '@cni/plugin-vlan';
import { vrf } from '@cni/plugin-vrf';

/**
 * Every plugin the bundle ships, by executable name (upstream's: `host-local`, not `hostLocal`).
 * `pnpm build` writes `dist/bin/<name>` for each with @cni/bundle's `cni-bundle-build`, whose
 * list (`ownPlugins`: module and export of each) a test checks against this one and the
 * workspace's plugin packages.
 */
export const plugins = {
  bandwidth,
  bond,
  bridge,
  'calico-ipam': calicoIpam,
  dhcp,
  dummy,
  firewall,
  'host-device': hostDevice,
  'host-local': hostLocal,
  ipvlan,
  loopback,
  macvlan,
  multinet,
  portmap,
  ptp,
  sample,
  sbr,
  sriov,
  static: staticIpam,
  tap,
  tuning,
  vlan,
  vrf,
} satisfies Record<string, CniPlugin>;

/** The name of a plugin the bundle ships. */
export type PluginName = keyof typeof plugins;
