// SPDX-License-Identifier: Apache-2.0
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, decodeConfig, type NetConf } from '@cni/spec';

/**
 * The sample's configuration: the standard keys skel already parsed ({@link NetConf}) plus the
 * plugin's own. Copy this shape for your plugin, and name every key in docs/plugins/<name>.md.
 */
export interface SampleNetConf extends NetConf {
  /** Required: any non-empty text. Stands for the setting every plugin has one of. */
  anotherAwesomeArg: string;
  /** Optional, false by default. Stands for a feature switch. */
  myAwesomeFlag: boolean;
  /** `runtimeConfig.sample`: what the runtime passes for the `sample` capability, if anything. */
  runtimeConfig?: NetConf['runtimeConfig'] & { sample?: Record<string, unknown> };
}

/**
 * Read the plugin's own keys from the configuration skel parsed, as upstream's `parseConfig`:
 * `decodeConfig` checks each key's type and reports every wrong key at once (code 7, naming the
 * key, the value and the type it must have); then the plugin's own rules and defaults. All of it
 * happens here, before any verb does anything. Keys the plugin does not know are left alone:
 * another plugin of the chain, or a newer version of this one, may know them.
 */
export function loadConf(request: Pick<PluginRequest, 'conf'>): SampleNetConf {
  const conf = request.conf;
  const keys = decodeConfig(conf, (r) => {
    r.optObject('runtimeConfig')?.optObject('sample');
    return { anotherAwesomeArg: r.optString('anotherAwesomeArg') ?? '', myAwesomeFlag: r.bool('myAwesomeFlag') };
  });
  if (keys.anotherAwesomeArg === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'anotherAwesomeArg must be specified');
  }
  return { ...conf, ...keys } as SampleNetConf;
}
