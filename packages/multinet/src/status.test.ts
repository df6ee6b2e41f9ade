// SPDX-License-Identifier: Apache-2.0
import { parseResult } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { networkStatus } from './status.ts';

describe('network-status entries (spec §5)', () => {
  it('takes the first sandbox interface and its addresses', () => {
    const result = parseResult({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0', mac: '02:00:00:00:00:01' }, { name: 'veth1' }, { name: 'net1', mac: '02:00:00:00:00:02', sandbox: '/var/run/netns/p' }],
      ips: [{ address: '10.0.0.1/24', interface: 0 }, { address: '10.1.0.5/24', interface: 2 }, { address: 'fd00::5/64', interface: 2 }],
      dns: { nameservers: ['10.0.0.53'], search: ['svc.local'] },
    });
    expect(networkStatus({ name: 'web/a', isDefault: false, result, defaultRoute: ['10.1.0.1'] })).toEqual({
      name: 'web/a',
      interface: 'net1',
      ips: ['10.1.0.5', 'fd00::5'],
      mac: '02:00:00:00:00:02',
      default: false,
      dns: { nameservers: ['10.0.0.53'], search: ['svc.local'] },
      'default-route': ['10.1.0.1'],
    });
  });

  it('falls back to addresses without an interface, and reads 0.2.0 results', () => {
    const result = parseResult({ cniVersion: '0.2.0', ip4: { ip: '10.2.0.5/16', gateway: '10.2.0.1' } });
    expect(networkStatus({ name: 'pods', isDefault: true, result })).toEqual({ name: 'pods', ips: ['10.2.0.5'], default: true });
  });

  it('writes a minimal entry without a result, and leaves out empty DNS', () => {
    expect(networkStatus({ name: 'x', isDefault: false, result: undefined })).toEqual({ name: 'x', default: false });
    const result = parseResult({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/p' }], dns: {} });
    expect(networkStatus({ name: 'x', isDefault: true, result })).toEqual({ name: 'x', interface: 'eth0', default: true });
  });
});
