// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, type NetConf } from '@cni/spec';
import { optionalInt, optionalString } from './internal/keys.ts';

/** The vrf configuration, validated. */
export interface VrfNetConf extends NetConf {
  /** The VRF device's name inside the container (required). */
  vrfname: string;
  /** Its routing table; 0 (the default) picks the lowest table no VRF, route or rule of the container uses. */
  table: number;
}

/** The largest value of a Go uint32. */
const UINT32_MAX = 0xffff_ffff;

/** Read and validate the configuration as upstream's `parseConf`: `vrfname` required, `table` a uint32. */
export function loadConf(conf: NetConf): VrfNetConf {
  const vrfname = optionalString(conf, 'vrfname') ?? '';
  if (vrfname === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'configuration is expected to have a valid vrf name', {
      details: `vrfname: ${JSON.stringify(conf['vrfname'] ?? null)}`,
    });
  }
  if (Buffer.byteLength(vrfname) > 15 || /[/:\s]/.test(vrfname)) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid vrfname "${vrfname}", must be a link name (1 to 15 bytes, no "/", ":" or spaces)`);
  }
  return { ...conf, vrfname, table: optionalInt(conf, 'table', 0, UINT32_MAX, 0) };
}
