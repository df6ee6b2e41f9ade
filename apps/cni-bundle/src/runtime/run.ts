// SPDX-License-Identifier: Apache-2.0
import { delegateError, execDelegate, processIo, runPlugin, type CniPlugin, type DelegateInvocation, type PluginIo } from '@cni/skel';
import { BUNDLE_VERSION } from '../version.ts';
import { runCaptured } from './capture.ts';
import { bundledPluginAt, loadBundled, payloadDir } from './payload.ts';

/** The version in the about text: the bundle's, and the runtime it carries. */
function aboutVersion(): string | undefined {
  return BUNDLE_VERSION === undefined ? undefined : `${BUNDLE_VERSION} (node ${process.version})`;
}

/**
 * Runs a delegate as skel asks: in this process when the executable found in CNI_PATH is one of
 * ours, otherwise started as upstream does. Both give the same stdout, the same error, and the
 * delegate the same environment and stdin.
 */
export async function bundleDelegateRunner(invocation: DelegateInvocation): Promise<Uint8Array> {
  const dir = payloadDir();
  const name = bundledPluginAt(invocation.pluginPath, dir);
  if (name === undefined || dir === undefined) return execDelegate(invocation);
  const delegate = loadBundled(name, dir);
  const outcome = await runCaptured((io) => delegate.run(io), invocation.env, invocation.stdin);
  if (outcome.code !== 0) throw delegateError(`exit status ${outcome.code}`, outcome.stdout, outcome.stderr);
  if (outcome.stderr.length > 0) invocation.stderr.write(outcome.stderr.toString('utf8'));
  return outcome.stdout;
}

/**
 * Run `plugin` as its executable does: the process's io unless given one, delegates through
 * {@link bundleDelegateRunner}, the bundle's version in the about text.
 */
export function runBundled(plugin: CniPlugin, io: PluginIo = processIo()): Promise<number> {
  const version = aboutVersion();
  return runPlugin(plugin, { ...io, delegateRunner: io.delegateRunner ?? bundleDelegateRunner }, version === undefined ? {} : { version });
}
