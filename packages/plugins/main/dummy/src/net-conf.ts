// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, ipamTypeOf, type NetConf } from '@cni/spec';

/** The dummy configuration: only the IPAM section matters, and it is required. */
export interface DummyNetConf extends NetConf {
  /** The IPAM plugin to delegate to. */
  ipamType: string;
}

/**
 * Read and validate the configuration as upstream's dummy plugin: a dummy link has no peer and no
 * master, so without IPAM it would carry nothing; an IPAM section with a `type` is required.
 */
export function loadConf(conf: NetConf): DummyNetConf {
  const ipamType = ipamTypeOf(conf);
  if (ipamType === '') {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'dummy interface requires an IPAM configuration', {
      details: `ipam: ${JSON.stringify(conf.ipam ?? null)}`,
    });
  }
  return { ...conf, ipamType };
}
