// SPDX-License-Identifier: Apache-2.0

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

/**
 * The project's own plugins by executable name (upstream's: `host-local`, not `hostLocal`).
 * apps/cni-bundle's registry (`src/plugins.ts`, the typed values) is checked against this list.
 */
export const ownPlugins: Readonly<Record<string, OwnPlugin>> = {
  bandwidth: { from: '@cni/plugin-bandwidth', export: 'bandwidth' },
  bond: { from: '@cni/plugin-bond', export: 'bond' },
  bridge: { from: '@cni/plugin-bridge', export: 'bridge' },
  'calico-ipam': {
    from: '@cni/ipam-calico/plugin',
    export: 'calicoIpam',
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
    from: '@cni/ipam-dhcp/plugin',
    export: 'dhcp',
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
  dummy: { from: '@cni/plugin-dummy', export: 'dummy' },
  firewall: { from: '@cni/plugin-firewall', export: 'firewall' },
  'host-device': { from: '@cni/plugin-host-device', export: 'hostDevice' },
  'host-local': { from: '@cni/ipam-hostlocal', export: 'hostLocal' },
  ipvlan: { from: '@cni/plugin-ipvlan', export: 'ipvlan' },
  loopback: { from: '@cni/plugin-loopback', export: 'loopback' },
  macvlan: { from: '@cni/plugin-macvlan', export: 'macvlan' },
  multinet: {
    from: '@cni/multinet',
    export: 'createMultinet',
    entry: [
      "import { createMultinet } from '@cni/multinet';",
      "import { bundlePluginExec, runBundled } from '@cni/bundle/runtime';",
      '/** Run `multinet`: its attachments\' plugins run in this process when CNI_PATH finds ours. */',
      'export function run(io) {',
      '  return runBundled(createMultinet(io === undefined ? { exec: bundlePluginExec() } : { exec: bundlePluginExec(), env: io.env }), io);',
      '}',
    ].join('\n'),
  },
  portmap: { from: '@cni/plugin-portmap', export: 'portmap' },
  ptp: { from: '@cni/plugin-ptp', export: 'ptp' },
  sample: { from: '@cni/plugin-sample', export: 'sample' },
  sbr: { from: '@cni/plugin-sbr', export: 'sbr' },
  sriov: { from: '@cni/plugin-sriov', export: 'sriov' },
  static: { from: '@cni/ipam-static', export: 'staticIpam' },
  tap: { from: '@cni/plugin-tap', export: 'tap' },
  tuning: { from: '@cni/plugin-tuning', export: 'tuning' },
  vlan: { from: '@cni/plugin-vlan', export: 'vlan' },
  vrf: { from: '@cni/plugin-vrf', export: 'vrf' },
};
