// SPDX-License-Identifier: Apache-2.0
// `cni-bundle`: the bundle's own command (install, version, list), the launcher under its own name.
import { runTool } from './install/tool.ts';

/** Run the `cni-bundle` command with the process's arguments; sets the exit status. */
export async function run(): Promise<number> {
  const code = await runTool(process.argv.slice(2));
  process.exitCode = code;
  return code;
}
