// SPDX-License-Identifier: Apache-2.0
import { CniError, type NetConf, type ResultV100 } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { loadConf, sourceAddresses } from './net-conf.ts';

const request = (conf: Record<string, unknown>) => ({ conf: { cniVersion: '1.0.0', name: 'net', type: 'sbr', ...conf } as NetConf, prevResult: undefined });

function refusal(conf: Record<string, unknown>): { code: number; msg: string } {
  try {
    loadConf(request(conf));
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('sbr loadConf', () => {
  it('applies defaults', () => {
    expect(loadConf(request({}))).toMatchObject({ table: undefined, gateways: { v4: undefined, v6: undefined }, addSourceHints: false });
  });

  it('reads table, gateways and addSourceHints', () => {
    expect(loadConf(request({ table: 500, gateways: ['10.0.0.1', 'FD00::1'], addSourceHints: true }))).toMatchObject({
      table: 500,
      gateways: { v4: '10.0.0.1', v6: 'fd00::1' },
      addSourceHints: true,
    });
  });

  it.each([
    [{ table: 'main' }, 'invalid table "main"'],
    [{ table: 255 }, 'invalid table 255'],
    [{ table: 0 }, 'invalid table 0'],
    [{ table: 1.5 }, 'invalid table 1.5'],
    [{ gateways: '10.0.0.1' }, 'invalid gateways "10.0.0.1"'],
    [{ gateways: ['10.0.0.1', 'fd00::1', '10.0.0.2'] }, 'at most 2 entries'],
    [{ gateways: ['fd00::1', 'fd00::2'] }, 'at most one IPv6 address'],
    [{ gateways: ['10.0.0.300'] }, 'invalid gateways[] "10.0.0.300", must be an IP address'],
    [{ addSourceHints: 1 }, 'invalid addSourceHints 1, must be a boolean'],
  ])('refuses %j with code 7 naming the key and value', (conf, message) => {
    const { code, msg } = refusal(conf);
    expect(code).toBe(7);
    expect(msg).toContain(message);
  });
});

describe('sourceAddresses', () => {
  const result: ResultV100 = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'veth0' }, { name: 'eth0', sandbox: '/x' }, { name: 'eth1', sandbox: '/x' }],
    ips: [
      { interface: 1, address: '10.0.0.2/24', gateway: '10.0.0.1' },
      { interface: 2, address: '10.1.0.2/24' },
      { address: '10.2.0.2/24' },
      { interface: 7, address: '10.3.0.2/24' },
      { interface: 1, address: 'fd00::2/64', gateway: 'fd00::1' },
    ],
  };

  it("keeps the addresses of the interface, those without an index and those whose index names none, as upstream's getIPCfgs", () => {
    expect(sourceAddresses(result, 'eth0').map((source) => source.cidr)).toEqual(['10.0.0.2/24', '10.2.0.2/24', '10.3.0.2/24', 'fd00::2/64']);
    expect(sourceAddresses(result, 'eth0')[0]).toEqual({ cidr: '10.0.0.2/24', ip: '10.0.0.2', family: 4, gateway: '10.0.0.1' });
  });

  it('fails without any address', () => {
    expect(() => sourceAddresses({ cniVersion: '1.0.0', ips: [] }, 'eth0')).toThrow('no IP addresses supplied on interface "eth0"');
  });
});
