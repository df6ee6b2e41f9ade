// SPDX-License-Identifier: Apache-2.0
import { CniError, decodeConfig } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { readDns, readRequestedIps, readRoutes } from './config.ts';

const routesOf = (ipam: Record<string, unknown>) => decodeConfig({ ipam }, (r) => readRoutes(r.object('ipam').key('routes')));
const problem = (run: () => unknown): CniError => {
  try {
    run();
  } catch (error) {
    if (error instanceof CniError) return error;
    throw error;
  }
  throw new Error('expected a CniError');
};

describe('IPAM config readers', () => {
  it('read routes with their 1.1.0 fields and drop keys Go has no place for', () => {
    expect(routesOf({})).toEqual([]);
    expect(routesOf({ routes: null })).toEqual([]);
    expect(routesOf({ routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1', priority: 5, table: 100, scope: 253, mtu: 1400, advmss: 1360, other: 1 }] })).toEqual([
      { dst: '0.0.0.0/0', gw: '10.0.0.1', priority: 5, table: 100, scope: 253, mtu: 1400, advmss: 1360 },
    ]);
  });

  it('refuse every route problem at once, each with its path (code 7)', () => {
    const error = problem(() => routesOf({ routes: [{ dst: 'x' }, null, 'a', { dst: '10.0.0.0/8', gw: 7, scope: 300 }] }));
    expect(error.code).toBe(7);
    expect(error.message).toBe('invalid ipam.routes[0].dst "x", must be a CIDR such as "10.1.2.3/24" (and 4 more problems)');
    expect(error.details?.split('\n')).toEqual([
      'invalid ipam.routes[0].dst "x", must be a CIDR such as "10.1.2.3/24"',
      'invalid ipam.routes[1] null, must be an object with a "dst" CIDR',
      'invalid ipam.routes[2] "a", must be an object',
      'invalid ipam.routes[3].gw 7, must be a string',
      'invalid ipam.routes[3].scope 300, must be an integer in [0, 255]',
    ]);
    expect(problem(() => routesOf({ routes: { dst: '0.0.0.0/0' } })).message).toBe('invalid ipam.routes {"dst":"0.0.0.0/0"}, must be an array');
    expect(problem(() => routesOf({ routes: [{}] })).message).toBe('missing ipam.routes[0].dst, must be a CIDR such as "10.1.2.3/24"');
  });

  it('read dns and requested addresses, refusing wrong types', () => {
    const dns = (value: unknown) => decodeConfig({ dns: value }, (r) => readDns(r.key('dns')));
    expect(dns(undefined)).toEqual({});
    expect(dns({ nameservers: ['8.8.8.8'], domain: 'd', search: ['a'], options: ['ndots:2'] })).toEqual({
      nameservers: ['8.8.8.8'],
      domain: 'd',
      search: ['a'],
      options: ['ndots:2'],
    });
    expect(problem(() => dns({ domain: 1 })).message).toBe('invalid dns.domain 1, must be a string');
    const ips = (value: unknown) => decodeConfig({ ips: value }, (r) => readRequestedIps(r.key('ips')));
    expect(ips(undefined)).toEqual([]);
    expect(ips(['10.0.0.1'])).toEqual(['10.0.0.1']);
    expect(problem(() => ips('10.0.0.1')).message).toBe('invalid ips "10.0.0.1", must be an array');
  });
});
