// SPDX-License-Identifier: Apache-2.0
// `calico-ipam`: the IPAM plugin, or its pool and usage commands when the first argument names
// one (`calico-ipam pool create ...`, `calico-ipam show`). The CLI's code loads only then.
import type { PluginIo } from '@cni/skel';
import { calicoIpam } from '@cni/ipam-calico/plugin';
import { runBundled } from '../runtime/run.ts';

const CLI_COMMANDS = new Set(['pool', 'show', 'config', 'release-empty', 'help', '--help']);

/** Run `calico-ipam` with the process's io, or with `io` as an in-process delegate; `calico-ipam pool|show|...` runs the CLI. */
export async function run(io?: PluginIo): Promise<number> {
  if (io === undefined && process.argv[2] !== undefined && CLI_COMMANDS.has(process.argv[2])) {
    const { runCli } = await import('@cni/ipam-calico/cli');
    process.exit(await runCli(process.argv.slice(2)));
  }
  return runBundled(calicoIpam, io);
}
