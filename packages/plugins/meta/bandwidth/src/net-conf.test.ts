// SPDX-License-Identifier: Apache-2.0
import { CniError, type NetConf } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { isZero, loadConf } from './net-conf.ts';
import { ifbName, tbfFor } from './shaping.ts';

const request = (conf: Record<string, unknown>) => ({ conf: { cniVersion: '1.0.0', name: 'net', type: 'bandwidth', ...conf } as NetConf, prevResult: undefined });

function refusal(conf: Record<string, unknown>): { code: number; msg: string } {
  try {
    loadConf(request(conf));
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('bandwidth loadConf', () => {
  it('reads nothing as zero', () => {
    const conf = loadConf(request({}));
    expect(isZero(conf.bandwidth)).toBe(true);
    expect(conf.bandwidthSource).toBe('none');
  });

  it('reads the top-level keys, which win over runtimeConfig.bandwidth', () => {
    const conf = loadConf(request({ ingressRate: 8000, ingressBurst: 800, runtimeConfig: { bandwidth: { egressRate: 16000, egressBurst: 1600 } } }));
    expect(conf.bandwidth).toEqual({ ingressRate: 8000, ingressBurst: 800, egressRate: 0, egressBurst: 0 });
    expect(conf.bandwidthSource).toBe('config');
  });

  it('reads runtimeConfig.bandwidth without top-level keys', () => {
    const conf = loadConf(request({ runtimeConfig: { bandwidth: { egressRate: 16000, egressBurst: 1600 } } }));
    expect(conf.bandwidth).toEqual({ ingressRate: 0, ingressBurst: 0, egressRate: 16000, egressBurst: 1600 });
    expect(conf.bandwidthSource).toBe('runtimeConfig');
  });

  it.each([
    [{ ingressRate: 8000 }, 'invalid ingressRate 8000: if rate is set, burst must also be set'],
    [{ egressBurst: 8000 }, 'invalid egressBurst 8000: if burst is set, rate must also be set'],
    [{ runtimeConfig: { bandwidth: { egressRate: 8000 } } }, 'invalid runtimeConfig.bandwidth.egressRate 8000: if rate is set, burst must also be set'],
    [{ ingressRate: 8000, ingressBurst: 8 * 0xffffffff }, 'burst cannot be more than 4GB'],
    [{ ingressRate: -1, ingressBurst: 10 }, 'invalid ingressRate -1, must be a non-negative integer'],
    [{ ingressRate: '1mbit', ingressBurst: 10 }, 'invalid ingressRate "1mbit"'],
    [{ ingressRate: 4, ingressBurst: 80 }, 'must be at least 8 bits per second'],
    [{ runtimeConfig: { bandwidth: 5 } }, 'invalid runtimeConfig.bandwidth 5, must be an object'],
  ])('refuses %j with code 7 naming the key and value', (conf, message) => {
    const { code, msg } = refusal(conf);
    expect(code).toBe(7);
    expect(msg).toContain(message);
  });
});

describe('shaping parameters', () => {
  it("names the ifb as upstream: bwp and the sha512 of network name and container ID, 15 characters", () => {
    // Upstream: utils.MustFormatHashWithPrefix(15, "bwp", "bw"+"c1").
    expect(ifbName('bw', 'c1')).toBe('bwpc3cc976dc7e3');
    expect(ifbName('a-network', 'some-container')).toHaveLength(15);
  });

  it('computes the token bucket as upstream: bytes, and limit = rate * 25 ms + burst', () => {
    expect(tbfFor(8_000_000, 800_000)).toMatchObject({ rate: 1_000_000, burst: 100_000, limit: 125_000 });
    expect(tbfFor(1_000_007, 8_009)).toMatchObject({ rate: 125_000, burst: 1_001, limit: 4_126 });
  });
});
