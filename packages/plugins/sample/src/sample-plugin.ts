// SPDX-License-Identifier: Apache-2.0
// The sample plugin, after upstream's plugins/sample: a chained plugin that supports every spec
// version, requires the previous plugin's result, checks it, and passes it on unchanged. Copy
// this file to start a plugin of your own; each verb says what to put where.
import { statSync } from 'node:fs';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, CniError, resultIps, type Result } from '@cni/spec';
import { argString, definePlugin, type PluginRequest } from '@cni/skel';
import { loadConf } from './net-conf.ts';

/**
 * A chained plugin acts on what an earlier plugin set up, so it needs that plugin's result
 * (`prevResult`) and a sandbox that has at least one address. An originating plugin (bridge,
 * ptp) would instead refuse a prevResult and build its own result.
 */
function requirePrevResult(request: PluginRequest, missing: string): Result {
  const prevResult = request.prevResult;
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, missing);
  if (resultIps(prevResult).length === 0) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'got no container IPs');
  }
  return prevResult;
}

/**
 * The sandbox must exist for ADD and CHECK; code 3 tells the runtime there is nothing to clean
 * up. A plugin that configures the sandbox would enter it here (`@cni/netns`).
 */
function requireNetns(netns: string): void {
  try {
    statSync(netns);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(error);
    throw new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, `failed to open netns "${netns}": ${reason}`, { cause: error });
  }
}

/**
 * The sample plugin. Its configuration keys are in docs/plugins/sample.md: `anotherAwesomeArg`
 * (required), `myAwesomeFlag`, and the `sample` capability in `runtimeConfig`.
 */
export const sample = definePlugin({
  name: 'sample',
  versions: ALL_SPEC_VERSIONS,

  async add(request) {
    const conf = loadConf(request.conf);
    // CNI_ARGS with upstream's rules: unknown keys fail unless the runtime sends IgnoreUnknown=1,
    // as container runtimes do.
    const args = request.loadArgs({ K8S_POD_NAMESPACE: argString, K8S_POD_NAME: argString });
    const prevResult = requirePrevResult(request, 'must be called as chained plugin');
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
  },

  async del(request) {
    // DEL is best effort and idempotent: the sandbox may be gone, and DEL may run twice. Only a
    // configuration we cannot read is an error, as upstream's sample has it.
    loadConf(request.conf);
    // Undo here what ADD did, ignoring what is already gone.
  },

  async check(request) {
    loadConf(request.conf);
    requirePrevResult(request, 'required prevResult missing');
    requireNetns(request.netns);
    // Check here that what ADD did is still in place.
  },

  async status(request) {
    const conf = loadConf(request.conf);
    // Ready for ADD when what we depend on is: a delegated IPAM plugin answers for itself.
    if (conf.ipam?.type) await request.delegate(conf.ipam.type);
  },

  // No gc: the sample keeps nothing outside the sandbox, and skel answers GC with success.
});
