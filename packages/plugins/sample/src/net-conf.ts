// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, invalidConfigError, type NetConf } from '@cni/spec';

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
 * check each key's type, apply defaults, and refuse what the plugin cannot work with. Throws
 * code 7 naming the key and the value. Keys the plugin does not know are left alone: another
 * plugin of the chain, or a newer version of this one, may know them.
 */
export function loadConf(conf: NetConf): SampleNetConf {
  const { anotherAwesomeArg, myAwesomeFlag, runtimeConfig } = conf;
  if (anotherAwesomeArg === undefined || anotherAwesomeArg === null || anotherAwesomeArg === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'anotherAwesomeArg must be specified');
  }
  if (typeof anotherAwesomeArg !== 'string') throw invalidConfigError('anotherAwesomeArg', anotherAwesomeArg, 'a string');
  if (myAwesomeFlag !== undefined && myAwesomeFlag !== null && typeof myAwesomeFlag !== 'boolean') {
    throw invalidConfigError('myAwesomeFlag', myAwesomeFlag, 'a boolean');
  }
  const sample = runtimeConfig?.sample;
  if (sample !== undefined && sample !== null && (typeof sample !== 'object' || Array.isArray(sample))) {
    throw invalidConfigError('runtimeConfig.sample', sample, 'an object');
  }
  return { ...conf, anotherAwesomeArg, myAwesomeFlag: myAwesomeFlag === true } as SampleNetConf;
}
