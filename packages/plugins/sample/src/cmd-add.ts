// SPDX-License-Identifier: Apache-2.0
import { statSync } from 'node:fs';
import { argString, type AddRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, resultIps, type Result } from '@cni/spec';
import { loadConf } from './net-conf.ts';

/**
 * A chained plugin acts on what an earlier plugin set up, so it needs that plugin's result
 * (`prevResult`) and a sandbox that has at least one address. An originating plugin (bridge,
 * ptp) would instead refuse a prevResult and build its own result.
 */
export function requireAddresses(prevResult: Result | undefined, missing: string): Result {
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, missing);
  if (resultIps(prevResult).length === 0) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'got no container IPs');
  return prevResult;
}

/**
 * The sandbox must exist for ADD and CHECK; code 3 tells the runtime there is nothing to clean
 * up. A plugin that configures the sandbox opens it with `@cni/link`'s `openSandbox` instead.
 */
export function requireNetns(netns: string): void {
  try {
    statSync(netns);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(error);
    throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `failed to open netns "${netns}": ${reason}`, { cause: error });
  }
}

/**
 * ADD: check the chain gave us addresses and the sandbox exists, then pass prevResult on. A plugin
 * that makes things here pushes the step that undoes each onto skel's `UndoStack`
 * (`await using undo = new UndoStack()`, `undo.defer(...)`, `undo.dismiss()` on success).
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  // CNI_ARGS with upstream's rules: unknown keys fail unless the runtime sends IgnoreUnknown=1,
  // as container runtimes do.
  const args = request.loadArgs({ K8S_POD_NAMESPACE: argString, K8S_POD_NAME: argString });
  const prevResult = requireAddresses(request.prevResult, 'must be called as chained plugin');
  requireNetns(request.netns);
  request.log.debug('passing prevResult on', {
    anotherAwesomeArg: conf.anotherAwesomeArg,
    myAwesomeFlag: conf.myAwesomeFlag,
    runtimeConfig: conf.runtimeConfig?.sample,
    pod: args.K8S_POD_NAME,
  });
  // Implement your plugin here: configure request.ifName inside request.netns.

  // Pass the result on, unchanged: skel prints it in the configuration's version.
  return prevResult;
}
