// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, decodeConfig, type NetConf } from '@cni/spec';

/** The vrf configuration, validated. */
export interface VrfNetConf extends NetConf {
  /** The VRF device's name inside the container (required). */
  vrfname: string;
  /** Its routing table; 0 (the default) picks the lowest table no VRF, route or rule of the container uses. */
  table: number;
}

/** Read and validate the configuration as upstream's `parseConf`: `vrfname` required, `table` a uint32. */
export function loadConf(conf: NetConf): VrfNetConf {
  const keys = decodeConfig(conf, (r) => ({
    vrfname: r.optString('vrfname') ?? '',
    table: r.int('table', { min: 0, max: 0xffff_ffff }, 0),
  }));
  const { vrfname } = keys;
  if (vrfname === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'configuration is expected to have a valid vrf name', {
      details: `vrfname: ${JSON.stringify(conf['vrfname'] ?? null)}`,
    });
  }
  if (Buffer.byteLength(vrfname) > 15 || /[/:\s]/.test(vrfname)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid vrfname "${vrfname}", must be a link name (1 to 15 bytes, no "/", ":" or spaces)`);
  }
  return { ...conf, ...keys };
}
