// SPDX-License-Identifier: Apache-2.0
// `dhcp`: the IPAM plugin, or the DHCP daemon when the first argument is `daemon`
// (`dhcp daemon [flags]`, upstream's two roles in one executable). The daemon's code loads only then.
import type { PluginIo } from '@cni/skel';
import { dhcp } from '@cni/ipam-dhcp/plugin';
import { runBundled } from '../runtime/run.ts';

/** Run `dhcp` with the process's io, or with `io` as an in-process delegate; `dhcp daemon` runs the daemon. */
export async function run(io?: PluginIo): Promise<number> {
  if (io === undefined && process.argv[2] === 'daemon') {
    const { runDaemonCommand } = await import('@cni/ipam-dhcp/cli');
    const code = await runDaemonCommand(process.argv.slice(3));
    process.exit(code);
  }
  return runBundled(dhcp, io);
}
