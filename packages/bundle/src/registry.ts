// SPDX-License-Identifier: Apache-2.0
import type * as IpamCalicoModule from '@cni/ipam-calico/plugin';
import type * as IpamDhcpModule from '@cni/ipam-dhcp/plugin';
import type * as IpamHostlocalModule from '@cni/ipam-hostlocal';
import type * as IpamStaticModule from '@cni/ipam-static';
import type * as MultinetModule from '@cni/multinet';
import type * as PluginBandwidthModule from '@cni/plugin-bandwidth';
import type * as PluginBondModule from '@cni/plugin-bond';
import type * as PluginBridgeModule from '@cni/plugin-bridge';
import type * as PluginDummyModule from '@cni/plugin-dummy';
import type * as PluginFirewallModule from '@cni/plugin-firewall';
import type * as PluginHostDeviceModule from '@cni/plugin-host-device';
import type * as PluginIpvlanModule from '@cni/plugin-ipvlan';
import type * as PluginLoopbackModule from '@cni/plugin-loopback';
import type * as PluginMacvlanModule from '@cni/plugin-macvlan';
import type * as PluginPortmapModule from '@cni/plugin-portmap';
import type * as PluginPtpModule from '@cni/plugin-ptp';
import type * as PluginSampleModule from '@cni/plugin-sample';
import type * as PluginSbrModule from '@cni/plugin-sbr';
import type * as PluginSriovModule from '@cni/plugin-sriov';
import type * as PluginTapModule from '@cni/plugin-tap';
import type * as PluginTuningModule from '@cni/plugin-tuning';
import type * as PluginVlanModule from '@cni/plugin-vlan';
import type * as PluginVrfModule from '@cni/plugin-vrf';


/** Where the bundler finds one of the project's plugins: the module and the export that holds its value. */
export interface OwnPlugin {
  /** The module specifier, resolved from this package (`@cni/plugin-bridge`). */
  from: string;
  /** The exported `definePlugin` value. */
  export: string;
  /**
   * The entry's code instead of the default `runBundled(<export>, io)`: multinet runs its
   * attachments' plugins through the bundle's exec (in-process when they are ours); dhcp and
   * calico-ipam are also commands (`dhcp daemon`, `calico-ipam pool ...`).
   */
  entry?: string;
}

/** An entry whose `export` the compiler checks against module `M`'s exports. */
function own<M>(from: string, name: keyof M & string): OwnPlugin {
  return { from, export: name };
}

/**
 * The project's own plugins by executable name (upstream's: `host-local`, not `hostLocal`).
 * apps/cni-bundle's registry (`src/plugins.ts`, the typed values) is checked against this list.
 */
export const ownPlugins: Readonly<Record<string, OwnPlugin>> = {
  bandwidth: own<typeof PluginBandwidthModule>('@cni/plugin-bandwidth', 'bandwidth'),
  bond: own<typeof PluginBondModule>('@cni/plugin-bond', 'bond'),
  bridge: own<typeof PluginBridgeModule>('@cni/plugin-bridge', 'bridge'),
  'calico-ipam': {
    ...own<typeof IpamCalicoModule>('@cni/ipam-calico/plugin', 'calicoIpam'),
    // `calico-ipam pool|show|...` runs the pool and usage commands; their code loads only then.
    entry: [
      "import { calicoIpam } from '@cni/ipam-calico/plugin';",
      "import { runBundled } from '@cni/bundle/runtime';",
      "const CLI_COMMANDS = new Set(['pool', 'show', 'config', 'release-empty', 'help', '--help']);",
      'export async function run(io) {',
      '  if (io === undefined && process.argv[2] !== undefined && CLI_COMMANDS.has(process.argv[2])) {',
      "    const { runCli } = await import('@cni/ipam-calico/cli');",
      '    process.exit(await runCli(process.argv.slice(2)));',
      '  }',
      '  return runBundled(calicoIpam, io);',
      '}',
    ].join('\n'),
  },
  dhcp: {
    ...own<typeof IpamDhcpModule>('@cni/ipam-dhcp/plugin', 'dhcp'),
    // `dhcp daemon [flags]` runs the DHCP daemon (upstream's two roles in one executable).
    entry: [
      "import { dhcp } from '@cni/ipam-dhcp/plugin';",
      "import { runBundled } from '@cni/bundle/runtime';",
      'export async function run(io) {',
      "  if (io === undefined && process.argv[2] === 'daemon') {",
      "    const { runDaemonCommand } = await import('@cni/ipam-dhcp/cli');",
      '    process.exit(await runDaemonCommand(process.argv.slice(3)));',
      '  }',
      '  return runBundled(dhcp, io);',
      '}',
    ].join('\n'),
  },
  dummy: own<typeof PluginDummyModule>('@cni/plugin-dummy', 'dummy'),
  firewall: own<typeof PluginFirewallModule>('@cni/plugin-firewall', 'firewall'),
  'host-device': own<typeof PluginHostDeviceModule>('@cni/plugin-host-device', 'hostDevice'),
  'host-local': own<typeof IpamHostlocalModule>('@cni/ipam-hostlocal', 'hostLocal'),
  ipvlan: own<typeof PluginIpvlanModule>('@cni/plugin-ipvlan', 'ipvlan'),
  loopback: own<typeof PluginLoopbackModule>('@cni/plugin-loopback', 'loopback'),
  macvlan: own<typeof PluginMacvlanModule>('@cni/plugin-macvlan', 'macvlan'),
  multinet: {
    ...own<typeof MultinetModule>('@cni/multinet', 'createMultinet'),
    entry: [
      "import { createMultinet } from '@cni/multinet';",
      "import { bundlePluginExec, runBundled } from '@cni/bundle/runtime';",
      '/** Run `multinet`: its attachments\' plugins run in this process when CNI_PATH finds ours. */',
      'export function run(io) {',
      '  return runBundled(createMultinet(io === undefined ? { exec: bundlePluginExec() } : { exec: bundlePluginExec(), env: io.env }), io);',
      '}',
    ].join('\n'),
  },
  portmap: own<typeof PluginPortmapModule>('@cni/plugin-portmap', 'portmap'),
  ptp: own<typeof PluginPtpModule>('@cni/plugin-ptp', 'ptp'),
  sample: own<typeof PluginSampleModule>('@cni/plugin-sample', 'sample'),
  sbr: own<typeof PluginSbrModule>('@cni/plugin-sbr', 'sbr'),
  sriov: own<typeof PluginSriovModule>('@cni/plugin-sriov', 'sriov'),
  static: own<typeof IpamStaticModule>('@cni/ipam-static', 'staticIpam'),
  tap: own<typeof PluginTapModule>('@cni/plugin-tap', 'tap'),
  tuning: own<typeof PluginTuningModule>('@cni/plugin-tuning', 'tuning'),
  vlan: own<typeof PluginVlanModule>('@cni/plugin-vlan', 'vlan'),
  vrf: own<typeof PluginVrfModule>('@cni/plugin-vrf', 'vrf'),
};
