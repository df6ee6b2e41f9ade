// SPDX-License-Identifier: Apache-2.0
import { pluginFailure, RawExec, type ExecOptions, type PluginExec } from '@cni/libcni';
import { runCaptured } from './capture.ts';
import { bundledPluginAt, loadBundled, payloadDir } from './payload.ts';

/**
 * libcni's way of running plugins, for the bundle's meta plugins (multinet): a plugin whose
 * executable in CNI_PATH is one of ours runs in this process, anything else is started as
 * libcni's RawExec starts it. Errors are the same either way ({@link pluginFailure}).
 */
export function bundlePluginExec(raw: PluginExec = new RawExec()): PluginExec {
  return {
    findInPath: (type, paths) => raw.findInPath(type, paths),
    async execPlugin(pluginPath: string, stdin: Uint8Array, env: Readonly<Record<string, string>>, options?: ExecOptions): Promise<Uint8Array> {
      const dir = payloadDir();
      const name = bundledPluginAt(pluginPath, dir);
      if (name === undefined || dir === undefined) return raw.execPlugin(pluginPath, stdin, env, options);
      options?.signal?.throwIfAborted();
      const delegate = loadBundled(name, dir);
      const outcome = await runCaptured((io) => delegate.run(io), env, stdin);
      if (outcome.code !== 0) throw pluginFailure(`exit status ${outcome.code}`, outcome.stdout, outcome.stderr);
      if (outcome.stderr.length > 0) process.stderr.write(outcome.stderr);
      return outcome.stdout;
    },
  };
}
