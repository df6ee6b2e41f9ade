// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { CniError, configProblemsError, decodeConfig, describeProblem, ipamTypeOf } from './index.ts';

/** The CniError `fn` throws (fails the test when it throws nothing or something else). */
function thrown(fn: () => unknown): CniError {
  try {
    fn();
  } catch (error) {
    expect(CniError.isInstance(error), `not a CniError: ${String(error)}`).toBe(true);
    return error as CniError;
  }
  return expect.unreachable('expected a CniError');
}

describe('decodeConfig', () => {
  it('returns what the reader built when every key has its type', () => {
    const raw = {
      master: 'eth0',
      mtu: 1400,
      promisc: true,
      mode: 'bridge',
      gw: '10.0.0.1',
      subnet: '10.0.0.0/24',
      ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fe80::1' }] },
      names: ['a', null],
      extra: { anything: [1, 2] },
    };
    const conf = decodeConfig(raw, (r) => ({
      master: r.string('master'),
      mtu: r.int('mtu', { min: 0, max: 65535 }, 0),
      promisc: r.bool('promisc'),
      hairpin: r.bool('hairpin'),
      mode: r.optOneOf('mode', ['bridge', 'private'] as const),
      gw: r.optIp('gw'),
      subnet: r.cidr('subnet'),
      routes: r.object('ipam').optArray('routes', (route) => {
        const o = route.object();
        return { dst: o.cidr('dst'), gw: o.optIp('gw') };
      }),
      names: r.optStringArray('names'),
    }));
    expect(conf).toEqual({
      master: 'eth0',
      mtu: 1400,
      promisc: true,
      hairpin: false,
      mode: 'bridge',
      gw: '10.0.0.1',
      subnet: '10.0.0.0/24',
      routes: [
        { dst: '0.0.0.0/0', gw: undefined },
        { dst: '::/0', gw: 'fe80::1' },
      ],
      names: ['a', ''],
    });
  });

  it('reads JSON null as absent, as Go does', () => {
    const conf = decodeConfig({ mtu: null, master: null, flag: null }, (r) => ({
      mtu: r.int('mtu', {}, 1500),
      master: r.optString('master'),
      flag: r.bool('flag', true),
    }));
    expect(conf).toEqual({ mtu: 1500, master: undefined, flag: true });
  });

  it('names the key, the value and the expected type of a single problem, code 7', () => {
    const error = thrown(() => decodeConfig({ mtu: '1500' }, (r) => r.optInt('mtu', { min: 0 })));
    expect(error.code).toBe(7);
    expect(error.message).toBe('invalid mtu "1500", must be a non-negative integer');
    expect(error.details).toBeUndefined();
  });

  it('gives the full path of a nested key: ipam.routes[1].dst', () => {
    const raw = { ipam: { routes: [{ dst: '10.0.0.0/8' }, { dst: 'nope' }] } };
    const error = thrown(() =>
      decodeConfig(raw, (r) => r.object('ipam').optArray('routes', (route) => route.object().cidr('dst'))),
    );
    expect(error.message).toBe('invalid ipam.routes[1].dst "nope", must be a CIDR such as "10.1.2.3/24"');
  });

  it('collects every problem: the first is the message, all of them the details', () => {
    const raw = { mtu: 1.5, promisc: 'yes', ipam: { routes: 'x' } };
    const error = thrown(() =>
      decodeConfig(raw, (r) => ({
        master: r.string('master'),
        mtu: r.optInt('mtu'),
        promisc: r.bool('promisc'),
        routes: r.object('ipam').optArray('routes', (x) => x.string()),
      })),
    );
    expect(error.code).toBe(7);
    expect(error.message).toBe('missing master, must be a string (and 3 more problems)');
    expect(error.details!.split('\n')).toEqual([
      'missing master, must be a string',
      'invalid mtu 1.5, must be an integer',
      'invalid promisc "yes", must be a boolean',
      'invalid ipam.routes "x", must be an array',
    ]);
  });

  it('refuses wrong types for every reader', () => {
    const cases: [unknown, (r: import('./index.ts').ConfigReader) => unknown, string][] = [
      [7, (r) => r.optString('k'), 'a string'],
      [1, (r) => r.optBool('k'), 'a boolean'],
      [true, (r) => r.optInt('k'), 'an integer'],
      [2 ** 60, (r) => r.optInt('k'), 'an integer'],
      [70000, (r) => r.optInt('k', { min: 0, max: 65535 }), 'an integer in [0, 65535]'],
      [-1, (r) => r.optInt('k', { min: 1 }), 'an integer >= 1'],
      ['1.2.3', (r) => r.optIp('k'), 'an IP address'],
      ['01.2.3.4', (r) => r.optIp('k'), 'an IP address'],
      ['10.0.0.0/33', (r) => r.optCidr('k'), 'a CIDR such as "10.1.2.3/24"'],
      [[], (r) => r.optObject('k'), 'an object'],
      [{}, (r) => r.optArray('k', (x) => x.value), 'an array'],
      [[1], (r) => r.optStringArray('k'), 'a string'],
      ['vepa', (r) => r.optOneOf('k', ['bridge', 'private']), 'one of "bridge", "private"'],
    ];
    for (const [value, read, expected] of cases) {
      const error = thrown(() => decodeConfig({ k: value }, read));
      expect(error.code).toBe(7);
      expect(error.message).toContain(`, must be ${expected}`);
      expect(error.message).toMatch(/^invalid k(\[0\])? /);
    }
  });

  it('keeps a code an anchor gives (2 for an unsupported value) and custom rules', () => {
    const error = thrown(() => decodeConfig({ mode: 'x' }, (r) => r.optOneOf('mode', ['a', 'b'], 2)));
    expect(error.code).toBe(2);
    const custom = thrown(() =>
      decodeConfig({ vlan: 5000 }, (r) => {
        const vlan = r.optInt('vlan');
        if (vlan !== undefined && vlan > 4094) r.fail('vlan', vlan, 'a VLAN ID in [0, 4094]');
        return vlan;
      }),
    );
    expect(custom.message).toBe('invalid vlan 5000, must be a VLAN ID in [0, 4094]');
  });

  it('ignores inherited keys and keys it is not asked about', () => {
    const raw = JSON.parse('{"__proto__": {"polluted": 1}, "other": 3}') as Record<string, unknown>;
    expect(decodeConfig(raw, (r) => ({ s: r.optString('toString'), has: r.has('other') }))).toEqual({ s: undefined, has: true });
  });

  it('refuses a configuration that is not an object, with the prefix as path', () => {
    expect(thrown(() => decodeConfig([], () => 1, 'ipam')).message).toBe('invalid ipam [], must be an object');
    expect(decodeConfig({ type: 'x' }, (r) => r.pathOf('type'), 'ipam')).toBe('ipam.type');
  });

  it('configProblemsError and describeProblem word a missing key and a wrong one', () => {
    expect(describeProblem({ path: 'a.b', value: undefined, expected: 'a string', code: 7 })).toBe('missing a.b, must be a string');
    const error = configProblemsError([
      { path: 'x', value: 1, expected: 'a string', code: 7 },
      { path: 'y', value: 2, expected: 'a string', code: 7 },
    ]);
    expect(error.message).toBe('invalid x 1, must be a string (and 1 more problem)');
  });
});

describe('ipamTypeOf', () => {
  it('reads ipam.type, "" without one', () => {
    expect(ipamTypeOf({ ipam: { type: 'host-local' } })).toBe('host-local');
    expect(ipamTypeOf({})).toBe('');
    expect(ipamTypeOf({ ipam: { type: 3 } })).toBe('');
    expect(ipamTypeOf({ ipam: [] })).toBe('');
  });
});
