// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALL_SPEC_VERSIONS,
  CniError,
  convertResult,
  formatError,
  formatResult,
  parseResult,
  resultIps,
  toCurrentResult,
  type Result,
  type ResultV020,
  type ResultV040,
  type ResultV100,
} from '../index.ts';
import { ipVersionOf } from '../internal/ip.ts';

function thrown(fn: () => unknown): CniError {
  try {
    fn();
  } catch (error) {
    expect(CniError.isInstance(error), `not a CniError: ${String(error)}`).toBe(true);
    return error as CniError;
  }
  return expect.unreachable('expected a CniError');
}

// ---- arbitraries of valid results, in canonical form (what parseResult returns) ----

const ip4 = fc.ipV4();
// IPv4-mapped IPv6 addresses count as IPv4 for Go's To4; keep the v6 arbitrary to real IPv6.
const ip6 = fc.ipV6().filter((ip) => ipVersionOf(ip) === '6');
const cidr4 = fc.tuple(ip4, fc.integer({ min: 0, max: 32 })).map(([ip, p]) => `${ip}/${p}`);
const cidr6 = fc.tuple(ip6, fc.integer({ min: 0, max: 128 })).map(([ip, p]) => `${ip}/${p}`);
const cidr = fc.oneof(cidr4, cidr6);
const text = fc.string({ minLength: 1, maxLength: 12 });
const texts = fc.array(text, { minLength: 1, maxLength: 3 });
const positive = fc.integer({ min: 1, max: 65535 });
const anyInt = fc.integer({ min: -10, max: 300 });

const dns = fc
  .record({ nameservers: texts, domain: text, search: texts, options: texts }, { requiredKeys: [] })
  .filter((d) => Object.keys(d).length > 0);

const route = fc.record(
  { dst: cidr, gw: fc.oneof(ip4, ip6), mtu: positive, advmss: positive, priority: positive, table: anyInt, scope: anyInt },
  { requiredKeys: ['dst'] },
);
const routes = fc.array(route, { minLength: 1, maxLength: 4 });

const interface100 = fc.record(
  { name: fc.string({ maxLength: 15 }), mac: text, mtu: positive, sandbox: text, socketPath: text, pciID: text },
  { requiredKeys: ['name'] },
);
const ip100 = fc.record(
  { interface: fc.nat(4), address: cidr, gateway: fc.oneof(ip4, ip6) },
  { requiredKeys: ['address'] },
);

const result100 = (interfaceRecord = interface100): fc.Arbitrary<ResultV100> =>
  fc.record(
    {
      cniVersion: fc.constantFrom('1.0.0' as const, '1.1.0' as const),
      interfaces: fc.array(interfaceRecord, { minLength: 1, maxLength: 3 }),
      ips: fc.array(ip100, { minLength: 1, maxLength: 4 }),
      routes,
      dns,
    },
    { requiredKeys: ['cniVersion'] },
  );

const interface040 = fc.record({ name: fc.string({ maxLength: 15 }), mac: text, sandbox: text }, { requiredKeys: ['name'] });
// A 0.4.0 address whose version is its family, as every converter and plugin writes it.
const ip040 = ip100.map((ip) => ({ version: ipVersionOf(ip.address), ...ip }));
const result040: fc.Arbitrary<ResultV040> = fc.record(
  {
    cniVersion: fc.constantFrom('0.3.0' as const, '0.3.1' as const, '0.4.0' as const),
    interfaces: fc.array(interface040, { minLength: 1, maxLength: 3 }),
    ips: fc.array(ip040, { minLength: 1, maxLength: 4 }),
    routes,
    dns,
  },
  { requiredKeys: ['cniVersion'] },
);

const route020 = (dst: fc.Arbitrary<string>) => fc.record({ dst, gw: fc.oneof(ip4, ip6) }, { requiredKeys: ['dst'] });
const ipConfig020 = (address: fc.Arbitrary<string>, dst: fc.Arbitrary<string>) =>
  fc.record(
    { ip: address, gateway: fc.oneof(ip4, ip6), routes: fc.array(route020(dst), { minLength: 1, maxLength: 3 }) },
    { requiredKeys: ['ip'] },
  );
// Routes of a family sit under that family, as a round trip through 0.4.0 sorts them.
const result020: fc.Arbitrary<ResultV020> = fc
  .record(
    {
      cniVersion: fc.constantFrom('0.1.0' as const, '0.2.0' as const),
      ip4: ipConfig020(cidr4, cidr4),
      ip6: ipConfig020(cidr6, cidr6),
      dns,
    },
    { requiredKeys: ['cniVersion'] },
  )
  .filter((r) => r.ip4 !== undefined || r.ip6 !== undefined);

const anyResult: fc.Arbitrary<Result> = fc.oneof(result020, result040, result100());

// ---- parseResult ----

describe('parseResult', () => {
  it('returns a valid canonical result unchanged', () => {
    fc.assert(
      fc.property(anyResult, (result) => {
        expect(parseResult(result)).toEqual(result);
      }),
    );
  });

  it('drops unknown keys and what Go omitempty leaves out', () => {
    expect(
      parseResult({
        cniVersion: '1.1.0',
        interfaces: [{ name: 'eth0', mac: '', mtu: 0, sandbox: '/var/run/netns/x', extra: true }],
        ips: [{ address: '10.0.0.2/24', gateway: '', interface: 0 }],
        routes: [{ dst: '0.0.0.0/0', mtu: 0, table: 0, scope: 0 }],
        dns: { nameservers: [], domain: '' },
        unknown: 1,
      }),
    ).toEqual({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }],
      ips: [{ interface: 0, address: '10.0.0.2/24' }],
      routes: [{ dst: '0.0.0.0/0', table: 0, scope: 0 }],
    });
  });

  it('reads a result without cniVersion as 0.1.0, or as the version given', () => {
    expect(parseResult({ ip4: { ip: '10.0.0.2/8' } })).toEqual({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/8' } });
    expect(parseResult({ ips: [{ address: '10.0.0.2/8' }] }, '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '10.0.0.2/8' }],
    });
    expect(parseResult({}, '')).toEqual({ cniVersion: '0.1.0' });
  });

  it('computes a missing 0.4.0 ips[].version from the address', () => {
    expect(parseResult({ cniVersion: '0.4.0', ips: [{ address: 'fd00::2/64' }] })).toEqual({
      cniVersion: '0.4.0',
      ips: [{ version: '6', address: 'fd00::2/64' }],
    });
  });

  it('refuses unknown versions and layouts that do not match the version given (code 1)', () => {
    expect(thrown(() => parseResult({ cniVersion: '0.5.0' })).toJSON()).toEqual({
      code: 1,
      msg: 'unsupported CNI result version "0.5.0"',
    });
    expect(thrown(() => parseResult({}, '2.0.0')).code).toBe(1);
    expect(thrown(() => parseResult({ cniVersion: '0.2.0' }, '0.4.0')).message).toBe(
      'result type supports [0.3.0 0.3.1 0.4.0] but unmarshalled CNIVersion is "0.2.0"',
    );
  });

  it.each([
    [[], undefined, 'invalid result: expected a JSON object, got array'],
    [{ cniVersion: 1 }, undefined, 'invalid cniVersion 1, must be a string'],
    [{ ip4: { ip: '10.0.0.1' } }, '0.2.0', 'invalid ip4.ip "10.0.0.1", must be a CIDR such as "10.1.2.3/24"'],
    [{ ip6: {} }, '0.2.0', 'missing ip6.ip, must be a CIDR such as "10.1.2.3/24"'],
    [{ ip4: { ip: '10.0.0.1/8', gateway: '10.0.0.256' } }, '0.2.0', 'invalid ip4.gateway "10.0.0.256", must be an IP address'],
    [{ ip4: { ip: '10.0.0.1/33' } }, '0.1.0', 'invalid ip4.ip "10.0.0.1/33", must be a CIDR such as "10.1.2.3/24"'],
    [{ ips: {} }, '0.4.0', 'invalid ips {}, must be an array'],
    [{ ips: [null] }, '1.0.0', 'invalid ips[0] null, must be an object'],
    [{ ips: [{ address: '1.2.3.4/8', version: 4 }] }, '0.4.0', 'invalid ips[0].version 4, must be "4" or "6"'],
    [{ ips: [{ address: '1.2.3.4/8', interface: -1 }] }, '1.1.0', 'invalid ips[0].interface -1, must be a non-negative integer'],
    [{ ips: [{ address: '1.2.3.4/8', interface: 0.5 }] }, '1.1.0', 'invalid ips[0].interface 0.5, must be a non-negative integer'],
    [{ routes: [{ dst: '::/0', mtu: '1500' }] }, '1.1.0', 'invalid routes[0].mtu "1500", must be an integer'],
    [{ routes: [{ dst: '::/0', table: 2 ** 60 }] }, '1.1.0', 'invalid routes[0].table 1152921504606847000, must be an integer'],
    [{ routes: [{ gw: '::1' }] }, '1.1.0', 'missing routes[0].dst, must be a CIDR such as "10.1.2.3/24"'],
    [{ interfaces: [{ name: 1 }] }, '1.1.0', 'invalid interfaces[0].name 1, must be a string'],
    [{ interfaces: [{ name: 'e', mtu: 'big' }] }, '1.1.0', 'invalid interfaces[0].mtu "big", must be an integer'],
    [{ dns: [] }, '1.1.0', 'invalid dns [], must be an object'],
  ])('refuses %j (as %s) with code 6 naming the key', (value, version, message) => {
    const error = thrown(() => parseResult(value, version));
    expect(error.code).toBe(6);
    expect(error.message).toBe(message);
  });

  it('throws nothing but CniError, whatever the value', () => {
    const keys = ['cniVersion', 'ip4', 'ip6', 'ip', 'interfaces', 'ips', 'routes', 'dns', 'address', 'dst', 'gw', 'version', 'interface', 'mtu', 'table'];
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 1 }),
        fc.constantFrom('1.1.0', '0.4.0', '0.2.0', '10.0.0.1/8', '::/0', '4', '6'),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom(...keys), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, fc.option(fc.constantFrom(...ALL_SPEC_VERSIONS, '', '9.9.9'), { nil: undefined }), (value, version) => {
        try {
          parseResult(value, version);
        } catch (error) {
          if (!CniError.isInstance(error)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- conversion ----

const sample100: ResultV100 = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'eth0', mac: '00:11:22:33:44:66', mtu: 1400, sandbox: '/var/run/netns/c1', socketPath: '/run/vhost.sock', pciID: '0000:00:1f.0' },
  ],
  ips: [
    { interface: 1, address: '10.1.0.5/16', gateway: '10.1.0.1' },
    { interface: 1, address: '10.2.0.5/16' },
    { interface: 1, address: 'fd00::5/64', gateway: 'fd00::1' },
    { interface: 1, address: 'fd01::5/64' },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.1.0.1', mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 },
    { dst: '::/0', gw: 'fd00::1' },
    { dst: '192.168.0.0/16' },
  ],
  dns: { nameservers: ['10.1.0.1'], domain: 'cluster.local', search: ['svc.cluster.local'], options: ['ndots:5'] },
};

const expected040 = (cniVersion: ResultV040['cniVersion']): ResultV040 => ({
  cniVersion,
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'eth0', mac: '00:11:22:33:44:66', sandbox: '/var/run/netns/c1' },
  ],
  ips: [
    { version: '4', interface: 1, address: '10.1.0.5/16', gateway: '10.1.0.1' },
    { version: '4', interface: 1, address: '10.2.0.5/16' },
    { version: '6', interface: 1, address: 'fd00::5/64', gateway: 'fd00::1' },
    { version: '6', interface: 1, address: 'fd01::5/64' },
  ],
  routes: sample100.routes!,
  dns: sample100.dns!,
});

const expected020 = (cniVersion: ResultV020['cniVersion']): ResultV020 => ({
  cniVersion,
  ip4: {
    ip: '10.1.0.5/16',
    gateway: '10.1.0.1',
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '192.168.0.0/16' }],
  },
  ip6: { ip: 'fd00::5/64', gateway: 'fd00::1', routes: [{ dst: '::/0', gw: 'fd00::1' }] },
  dns: sample100.dns!,
});

const family = (version: string) => (version < '0.3.0' ? '020' : version < '1.0.0' ? '040' : '100');

describe('convertResult', () => {
  it('converts 1.1.0 to every version by upstream rules', () => {
    for (const version of ALL_SPEC_VERSIONS) {
      const converted = convertResult(sample100, version);
      const expected =
        family(version) === '100'
          ? { ...sample100, cniVersion: version }
          : family(version) === '040'
            ? expected040(version as ResultV040['cniVersion'])
            : expected020(version as ResultV020['cniVersion']);
      expect(converted, version).toEqual(expected);
    }
  });

  it('converts between every pair of versions, each output valid for its version', () => {
    const samples = ALL_SPEC_VERSIONS.map((version) => convertResult(sample100, version));
    for (const from of samples) {
      for (const to of ALL_SPEC_VERSIONS) {
        const converted = convertResult(from, to);
        expect(converted.cniVersion).toBe(to);
        expect(parseResult(converted, to)).toEqual(converted);
        // Everything that reached 0.2.0 survives the way back up and down again.
        if (family(from.cniVersion) === '020') expect(convertResult(converted, from.cniVersion)).toEqual(from);
      }
    }
  });

  it('up-converts 0.2.0 as upstream: ip4 then ip6, each family with its routes', () => {
    const converted = convertResult(expected020('0.2.0'), '1.0.0');
    expect(converted).toEqual({
      cniVersion: '1.0.0',
      ips: [
        { address: '10.1.0.5/16', gateway: '10.1.0.1' },
        { address: 'fd00::5/64', gateway: 'fd00::1' },
      ],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '192.168.0.0/16' }, { dst: '::/0', gw: 'fd00::1' }],
      dns: sample100.dns,
    });
  });

  it('drops the routes of a family without an address on the way to 0.2.0', () => {
    const l3v4: ResultV100 = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], routes: [{ dst: '::/0' }, { dst: '0.0.0.0/0' }] };
    expect(convertResult(l3v4, '0.2.0')).toEqual({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', routes: [{ dst: '0.0.0.0/0' }] } });
  });

  it('assigns IPv4-mapped addresses to IPv4, as Go To4 does', () => {
    const mapped: ResultV100 = { cniVersion: '1.1.0', ips: [{ address: '::ffff:10.0.0.2/120' }], routes: [{ dst: '::ffff:0.0.0.0/96' }] };
    expect(convertResult(mapped, '0.4.0')).toMatchObject({ ips: [{ version: '4' }] });
    expect(convertResult(mapped, '0.2.0')).toEqual({
      cniVersion: '0.2.0',
      ip4: { ip: '::ffff:10.0.0.2/120', routes: [{ dst: '::ffff:0.0.0.0/96' }] },
    });
  });

  it('fails to reach 0.1.0/0.2.0 without any address (code 1)', () => {
    const l2: ResultV100 = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0' }], routes: [{ dst: '0.0.0.0/0' }] };
    for (const to of ['0.1.0', '0.2.0', '']) {
      const error = thrown(() => convertResult(l2, to));
      expect(error.code).toBe(1);
      expect(error.message).toBe('cannot convert: no valid IP addresses');
    }
  });

  it('refuses versions without a result layout (code 1)', () => {
    expect(thrown(() => convertResult(sample100, '1.2.0')).toJSON()).toEqual({
      code: 1,
      msg: 'no converter for CNI result version 1.1.0 to 1.2.0',
    });
    expect(thrown(() => convertResult({ cniVersion: '0.9.0' } as never, '1.0.0')).code).toBe(1);
  });

  it('treats an empty target as 0.1.0 and a version-less result by its layout', () => {
    expect(convertResult(expected020('0.2.0'), '').cniVersion).toBe('0.1.0');
    expect(convertResult({ ip4: { ip: '10.0.0.1/8' } } as never, '1.1.0')).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.0.0.1/8' }] });
    expect((convertResult({ ips: [{ version: '4', address: '10.0.0.1/8' }] } as never, '0.4.0') as ResultV040).ips).toHaveLength(1);
    expect(convertResult({ ips: [{ address: '10.0.0.1/8' }] } as never, '0.4.0')).toEqual({
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '10.0.0.1/8' }],
    });
  });

  it('never changes its input', () => {
    fc.assert(
      fc.property(anyResult, fc.constantFrom(...ALL_SPEC_VERSIONS), (result, to) => {
        const before = structuredClone(result);
        try {
          convertResult(result, to);
        } catch (error) {
          if (!CniError.isInstance(error)) throw error;
        }
        expect(result).toEqual(before);
      }),
    );
  });

  it('produces canonical, valid results or a CniError, for every pair', () => {
    fc.assert(
      fc.property(anyResult, fc.constantFrom(...ALL_SPEC_VERSIONS), (result, to) => {
        try {
          const converted = convertResult(result, to);
          expect(parseResult(converted, to)).toEqual(converted);
        } catch (error) {
          if (!CniError.isInstance(error)) throw error;
          expect(error.message).toBe('cannot convert: no valid IP addresses');
        }
      }),
    );
  });

  it('round-trips 1.x -> 0.4.0 -> 1.x losslessly but for the 1.1.0 interface fields', () => {
    const interfaceWithout110 = fc.record({ name: fc.string({ maxLength: 15 }), mac: text, sandbox: text }, { requiredKeys: ['name'] });
    fc.assert(
      fc.property(result100(interfaceWithout110), fc.constantFrom('0.3.0', '0.3.1', '0.4.0'), (result, via) => {
        expect(convertResult(convertResult(result, via), result.cniVersion)).toEqual(result);
      }),
    );
  });

  it('round-trips 0.3.x/0.4.0 -> 1.x -> 0.3.x/0.4.0 losslessly', () => {
    fc.assert(
      fc.property(result040, fc.constantFrom('1.0.0', '1.1.0'), (result, via) => {
        expect(convertResult(convertResult(result, via), result.cniVersion)).toEqual(result);
      }),
    );
  });

  it('round-trips 0.1.0/0.2.0 through every later version losslessly', () => {
    fc.assert(
      fc.property(result020, fc.constantFrom(...ALL_SPEC_VERSIONS), (result, via) => {
        expect(convertResult(convertResult(result, via), result.cniVersion)).toEqual(result);
      }),
    );
  });

  it('round-trips 1.0.0 <-> 1.1.0 and within 0.3.0..0.4.0 unchanged', () => {
    fc.assert(
      fc.property(result100(), (result) => {
        const other = result.cniVersion === '1.0.0' ? '1.1.0' : '1.0.0';
        expect(convertResult(result, other)).toEqual({ ...result, cniVersion: other });
      }),
    );
    fc.assert(
      fc.property(result040, fc.constantFrom('0.3.0' as const, '0.3.1' as const, '0.4.0' as const), (result, to) => {
        expect(convertResult(result, to)).toEqual({ ...result, cniVersion: to });
      }),
    );
  });

  it('toCurrentResult and resultIps read any version', () => {
    expect(toCurrentResult(expected020('0.1.0')).cniVersion).toBe('1.1.0');
    expect(resultIps(expected020('0.2.0')).map((ip) => ip.address)).toEqual(['10.1.0.5/16', 'fd00::5/64']);
    expect(resultIps(expected040('0.3.1'))).toEqual(sample100.ips);
    expect(resultIps({ cniVersion: '1.0.0' })).toEqual([]);
  });
});

// ---- printing ----

describe('formatResult', () => {
  it('prints 0.4.0 byte for byte as the Go host-local plugin does (struct order, "dns": {})', () => {
    // Captured from Debian's /usr/lib/cni/host-local (plugins v1.1.1) for a dual-stack range.
    const go = `{
    "cniVersion": "0.4.0",
    "ips": [
        {
            "version": "4",
            "address": "10.9.0.2/24",
            "gateway": "10.9.0.1"
        },
        {
            "version": "6",
            "address": "fd00::2/64",
            "gateway": "fd00::1"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        },
        {
            "dst": "::/0",
            "gw": "fd00::9"
        }
    ],
    "dns": {}
}`;
    const result = parseResult(JSON.parse(go)) as ResultV040;
    expect(formatResult(result)).toBe(go);
    // Whatever order the object was built in, the printed order is upstream's.
    expect(formatResult({ dns: {}, routes: result.routes, ips: result.ips, cniVersion: '0.4.0' } as ResultV040)).toBe(go);
  });

  it('prints 1.x with sorted keys (Go marshals it through a map) and no empty dns', () => {
    const printed = formatResult({
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/c', mac: '0a:58:0a:01:00:05', mtu: 1500 }],
      ips: [{ interface: 0, address: '10.1.0.5/16', gateway: '10.1.0.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1', table: 0, priority: 5 }],
      dns: {},
    });
    expect(printed).toBe(`{
    "cniVersion": "1.1.0",
    "interfaces": [
        {
            "mac": "0a:58:0a:01:00:05",
            "mtu": 1500,
            "name": "eth0",
            "sandbox": "/var/run/netns/c"
        }
    ],
    "ips": [
        {
            "address": "10.1.0.5/16",
            "gateway": "10.1.0.1",
            "interface": 0
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0",
            "gw": "10.1.0.1",
            "priority": 5,
            "table": 0
        }
    ]
}`);
  });

  it('prints 0.2.0 in struct order, converting to the version asked for', () => {
    expect(formatResult(sample100, '0.2.0')).toBe(`{
    "cniVersion": "0.2.0",
    "ip4": {
        "ip": "10.1.0.5/16",
        "gateway": "10.1.0.1",
        "routes": [
            {
                "dst": "0.0.0.0/0",
                "gw": "10.1.0.1"
            },
            {
                "dst": "192.168.0.0/16"
            }
        ]
    },
    "ip6": {
        "ip": "fd00::5/64",
        "gateway": "fd00::1",
        "routes": [
            {
                "dst": "::/0",
                "gw": "fd00::1"
            }
        ]
    },
    "dns": {
        "nameservers": [
            "10.1.0.1"
        ],
        "domain": "cluster.local",
        "search": [
            "svc.cluster.local"
        ],
        "options": [
            "ndots:5"
        ]
    }
}`);
  });

  it('escapes as Go does', () => {
    const printed = formatResult({ cniVersion: '1.0.0', interfaces: [{ name: 'a<b>&c\u2028' }] });
    expect(printed).toContain('"name": "a\\u003cb\\u003e\\u0026c\\u2028"');
    expect(JSON.parse(printed).interfaces[0].name).toBe('a<b>&c\u2028');
  });

  it('round-trips through its own text for every version', () => {
    fc.assert(
      fc.property(anyResult, (result) => {
        expect(parseResult(JSON.parse(formatResult(result)))).toEqual(result);
      }),
    );
  });
});

describe('formatError', () => {
  it('prints the spec error format with 4-space indent', () => {
    const error = new CniError(7, 'invalid characters found in network name', { details: 'a b' });
    expect(formatError(error)).toBe('{\n    "code": 7,\n    "msg": "invalid characters found in network name",\n    "details": "a b"\n}');
    expect(JSON.parse(formatError(new CniError(11, 'busy'), '1.1.0'))).toEqual({ cniVersion: '1.1.0', code: 11, msg: 'busy' });
  });
});
