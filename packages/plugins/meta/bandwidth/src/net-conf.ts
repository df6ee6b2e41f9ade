// SPDX-License-Identifier: Apache-2.0
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, toCurrentResult, type NetConf, type Result, type ResultV100 } from '@cni/spec';

/** The four keys, in bits per second and bits, as upstream's `BandwidthEntry`. */
export interface Bandwidth {
  ingressRate: number;
  ingressBurst: number;
  egressRate: number;
  egressBurst: number;
}

/** Bandwidth's configuration: the limits that apply, from the top level or `runtimeConfig.bandwidth`. */
export interface BandwidthNetConf extends NetConf {
  /** The limits; all zero when nothing is shaped. */
  bandwidth: Bandwidth;
  /** Where the limits came from: the top-level keys win over `runtimeConfig.bandwidth`, as upstream. */
  bandwidthSource: 'config' | 'runtimeConfig' | 'none';
  /** The previous plugin's result: bandwidth is chained only. */
  parsedPrevResult: Result | undefined;
}

const KEYS = ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const;

// Upstream refuses a burst whose byte count does not fit the kernel's u32.
const MAX_BURST_BITS = 8 * 0xffffffff;

function readEntry(where: string, source: Record<string, unknown>): Bandwidth {
  const entry = { ingressRate: 0, ingressBurst: 0, egressRate: 0, egressBurst: 0 };
  for (const key of KEYS) {
    const value = source[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw invalidConfigError(`${where}${key}`, value, 'a non-negative integer (bits per second, or bits)');
    }
    entry[key] = value;
  }
  for (const direction of ['ingress', 'egress'] as const) {
    const rate = entry[`${direction}Rate`];
    const burst = entry[`${direction}Burst`];
    if (rate !== 0 && burst === 0) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${where}${direction}Rate ${rate}: if rate is set, burst must also be set`);
    }
    if (burst !== 0 && rate === 0) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${where}${direction}Burst ${burst}: if burst is set, rate must also be set`);
    }
    if (burst >= MAX_BURST_BITS) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${where}${direction}Burst ${burst}: burst cannot be more than 4GB`);
    }
    // A rate under 8 bits/s is 0 bytes/s, which no token bucket can serve.
    if (rate !== 0 && rate < 8) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${where}${direction}Rate ${rate}: must be at least 8 bits per second`);
    }
    if (burst !== 0 && burst < 8) {
      throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `invalid ${where}${direction}Burst ${burst}: must be at least 8 bits`);
    }
  }
  return entry;
}

/**
 * Read the limits as upstream's `parseConfig`: any of the four keys at the top level makes the
 * top-level entry the one used (absent keys are 0); otherwise `runtimeConfig.bandwidth`. A rate
 * without its burst, a burst without its rate, a burst of 4 GiB or more, or a value that is not a
 * non-negative integer is code 7, naming the key and the value.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'prevResult'>): BandwidthNetConf {
  const conf = request.conf;
  const topLevel = KEYS.some((key) => conf[key] !== undefined && conf[key] !== null);
  const runtime = conf.runtimeConfig?.['bandwidth'];
  let bandwidth: Bandwidth = { ingressRate: 0, ingressBurst: 0, egressRate: 0, egressBurst: 0 };
  let bandwidthSource: BandwidthNetConf['bandwidthSource'] = 'none';
  if (topLevel) {
    bandwidth = readEntry('', conf);
    bandwidthSource = 'config';
  } else if (runtime !== undefined && runtime !== null) {
    if (typeof runtime !== 'object' || Array.isArray(runtime)) throw invalidConfigError('runtimeConfig.bandwidth', runtime, 'an object');
    bandwidth = readEntry('runtimeConfig.bandwidth.', runtime as Record<string, unknown>);
    bandwidthSource = 'runtimeConfig';
  }
  return { ...conf, bandwidth, bandwidthSource, parsedPrevResult: request.prevResult };
}

/** True when nothing is shaped: ADD passes the result through, as upstream. */
export function isZero(bandwidth: Bandwidth): boolean {
  return bandwidth.ingressRate === 0 && bandwidth.ingressBurst === 0 && bandwidth.egressRate === 0 && bandwidth.egressBurst === 0;
}

/** The previous result in the 1.x layout; a chained-only verb without one fails as upstream's. */
export function requireChainedResult(prevResult: Result | undefined): ResultV100 {
  if (!prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'must be called as chained plugin');
  return toCurrentResult(prevResult);
}
