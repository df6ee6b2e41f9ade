// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CniError,
  MAX_STDIN_BYTES,
  isValidName,
  parseNetConf,
  parseNetConfList,
  parsePrevResult,
  type NetConf,
  type Result,
} from './index.ts';

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

const base = { cniVersion: '1.1.0', name: 'net1', type: 'bridge' };
const conf = (extra: Record<string, unknown>) => JSON.stringify({ ...base, ...extra });

describe('parseNetConf', () => {
  it('parses bytes and strings, keeping keys it does not know untouched', () => {
    const text = conf({ bridge: 'cni0', isGateway: true, nested: { deep: [1, { x: null }] }, ipMasq: false });
    const fromString = parseNetConf(text);
    const fromBytes = parseNetConf(new TextEncoder().encode(text));
    expect(fromBytes).toEqual(fromString);
    expect(fromString).toEqual({ ...base, bridge: 'cni0', isGateway: true, nested: { deep: [1, { x: null }] }, ipMasq: false });
  });

  it('accepts every well-known key in its documented form', () => {
    const all = {
      capabilities: { portMappings: true, bandwidth: false },
      runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], futureKey: 1 },
      args: { cni: { ips: ['10.1.0.5'] }, labels: [] },
      ipMasq: true,
      ipam: { type: 'host-local', subnet: '10.1.0.0/16' },
      dns: { nameservers: ['10.1.0.1'], domain: 'example.com', search: ['a.example'], options: ['ndots:2'] },
      prevResult: { cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/16' }] },
      'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }],
      'cni.dev/attachments': [{ containerID: 'c1', ifname: 'eth0' }],
    };
    expect(parseNetConf(conf(all))).toEqual({ ...base, ...all });
  });

  it('reads a missing or empty cniVersion as 0.1.0, as the spec says', () => {
    expect(parseNetConf('{"name":"n","type":"t"}').cniVersion).toBe('0.1.0');
    expect(parseNetConf('{"name":"n","type":"t","cniVersion":""}').cniVersion).toBe('0.1.0');
  });

  it('treats a well-known key set to null as absent, as Go does', () => {
    const parsed = parseNetConf(conf({ ipMasq: null, dns: null, prevResult: null, custom: null }));
    expect(parsed).toEqual({ ...base, custom: null });
  });

  it('gives an ipam without type the empty type (L2-only bridge)', () => {
    expect(parseNetConf(conf({ ipam: {} })).ipam).toEqual({ type: '' });
  });

  it('refuses text that is not JSON with code 6 and upstream wording', () => {
    const error = thrown(() => parseNetConf('{"name": '));
    expect(error.code).toBe(6);
    expect(error.message).toMatch(/^error unmarshall network config: /);
  });

  it.each([['null'], ['[]'], ['42'], ['"text"'], ['true']])('refuses %s with code 6', (text) => {
    const error = thrown(() => parseNetConf(text));
    expect(error.code).toBe(6);
    expect(error.message).toMatch(/expected a JSON object/);
  });

  it('refuses a byte order mark as Go does', () => {
    expect(thrown(() => parseNetConf(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(conf({}))]))).code).toBe(6);
  });

  it('reads bytes that are not UTF-8 as Go does, replacing them', () => {
    const bytes = new TextEncoder().encode(conf({ label: 'XX' }));
    const at = bytes.indexOf(0x58);
    bytes[at] = 0xff;
    expect(parseNetConf(bytes).label).toBe('\ufffdX');
  });

  it('requires a valid network name with upstream messages (code 7)', () => {
    expect(thrown(() => parseNetConf('{"type":"t"}')).toJSON()).toEqual({ code: 7, msg: 'missing network name' });
    expect(thrown(() => parseNetConf('{"type":"t","name":""}')).toJSON()).toEqual({ code: 7, msg: 'missing network name' });
    expect(thrown(() => parseNetConf('{"type":"t","name":"bad name"}')).toJSON()).toEqual({
      code: 7,
      msg: 'invalid characters found in network name',
      details: 'bad name',
    });
    expect(thrown(() => parseNetConf('{"type":"t","name":5}')).toJSON()).toEqual({
      code: 7,
      msg: 'invalid name 5, must be a string',
    });
  });

  it('requires a plugin type', () => {
    expect(thrown(() => parseNetConf('{"name":"n"}')).toJSON()).toEqual({ code: 7, msg: 'missing type' });
  });

  it.each([
    [{ cniVersion: 1 }, 'invalid cniVersion 1, must be a string'],
    [{ type: ['bridge'] }, 'invalid type ["bridge"], must be a string'],
    [{ ipMasq: 'yes' }, 'invalid ipMasq "yes", must be a boolean'],
    [{ capabilities: [] }, 'invalid capabilities [], must be an object'],
    [{ capabilities: { portMappings: 'true' } }, 'invalid capabilities.portMappings "true", must be a boolean'],
    [{ runtimeConfig: 'x' }, 'invalid runtimeConfig "x", must be an object'],
    [{ args: 1 }, 'invalid args 1, must be an object'],
    [{ args: { cni: [] } }, 'invalid args.cni [], must be an object'],
    [{ ipam: 'host-local' }, 'invalid ipam "host-local", must be an object'],
    [{ ipam: { type: 7 } }, 'invalid ipam.type 7, must be a string'],
    [{ dns: { nameservers: '8.8.8.8' } }, 'invalid dns.nameservers "8.8.8.8", must be an array'],
    [{ dns: { search: [1] } }, 'invalid dns.search[0] 1, must be a string'],
    [{ dns: { domain: false } }, 'invalid dns.domain false, must be a string'],
    [{ prevResult: [] }, 'invalid prevResult [], must be an object'],
    [{ 'cni.dev/valid-attachments': {} }, 'invalid cni.dev/valid-attachments {}, must be an array'],
    [{ 'cni.dev/valid-attachments': [{ containerID: 1 }] }, 'invalid cni.dev/valid-attachments[0].containerID 1, must be a string'],
  ])('type-checks well-known keys: %j', (extra, message) => {
    const error = thrown(() => parseNetConf(conf(extra)));
    expect(error.code).toBe(7);
    expect(error.message).toBe(message);
  });

  it('refuses input over MAX_STDIN_BYTES with a clear error, as bytes and as text', () => {
    const padding = ' '.repeat(MAX_STDIN_BYTES);
    for (const input of [padding + conf({}), new TextEncoder().encode(padding + conf({}))]) {
      const error = thrown(() => parseNetConf(input));
      expect(error.code).toBe(5);
      expect(error.message).toMatch(/larger than the limit of 10485760 bytes \(10 MiB\)/);
    }
    // Multi-byte text is measured in UTF-8 bytes, not in characters.
    const wide = `{"name":"n","type":"t","pad":"${'é'.repeat(MAX_STDIN_BYTES / 2)}"}`;
    expect(wide.length).toBeLessThan(MAX_STDIN_BYTES);
    expect(thrown(() => parseNetConf(wide)).code).toBe(5);
    // Exactly at the limit is fine.
    const exact = conf({ pad: '' });
    expect(parseNetConf(exact.slice(0, -1) + ' '.repeat(MAX_STDIN_BYTES - exact.length) + '}').name).toBe('net1');
  });

  it('keeps __proto__ as a plain key and never touches prototypes', () => {
    const parsed = parseNetConf('{"name":"n","type":"t","__proto__":{"polluted":true},"constructor":1}');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    // An inherited name is not a key: toString is not mistaken for a type.
    expect(thrown(() => parseNetConf('{"name":"n","__proto__":{"type":"t"}}')).message).toBe('missing type');
  });

  it('accepts huge numbers where the spec does not read them', () => {
    const parsed = parseNetConf('{"name":"n","type":"t","mtu":1e400,"big":123456789012345678901234567890}');
    expect(parsed.mtu).toBe(Infinity);
  });
});

describe('isValidName', () => {
  it('is upstream regex', () => {
    expect(isValidName('a')).toBe(true);
    expect(isValidName('A-b_c.9')).toBe(true);
    expect(isValidName('')).toBe(false);
    expect(isValidName('-a')).toBe(false);
    expect(isValidName('.a')).toBe(false);
    expect(isValidName('a/b')).toBe(false);
    expect(isValidName('a\n')).toBe(false);
  });
});

const list = (extra: Record<string, unknown>) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'net1', plugins: [{ type: 'bridge' }, { type: 'portmap' }], ...extra });

describe('parseNetConfList', () => {
  it('parses a list and keeps unknown keys at every level', () => {
    const parsed = parseNetConfList(list({ custom: { a: 1 }, plugins: [{ type: 'bridge', bridge: 'cni0' }] }));
    expect(parsed).toEqual({ cniVersion: '1.0.0', name: 'net1', custom: { a: 1 }, plugins: [{ type: 'bridge', bridge: 'cni0' }] });
  });

  it('negotiates cniVersion from cniVersions, dropping versions newer than ours', () => {
    expect(parseNetConfList(list({ cniVersions: ['0.4.0', '1.1.0', '2.0.0'] })).cniVersion).toBe('1.1.0');
    expect(parseNetConfList(list({ cniVersion: '0.3.1', cniVersions: ['0.4.0'] })).cniVersion).toBe('0.4.0');
    expect(parseNetConfList(list({ cniVersion: '1.0.0', cniVersions: ['0.4.0'] })).cniVersion).toBe('1.0.0');
    expect(parseNetConfList(list({ cniVersion: '9.0.0', cniVersions: ['0.4.0'] })).cniVersion).toBe('0.4.0');
    expect(parseNetConfList(list({ cniVersion: '9.0.0', cniVersions: ['9.1.0'] })).cniVersion).toBe('9.0.0');
    expect(parseNetConfList(list({ cniVersion: undefined })).cniVersion).toBe('0.1.0');
    expect(parseNetConfList(list({ cniVersions: ['1.1.0'] })).cniVersions).toEqual(['1.1.0']);
  });

  it('refuses cniVersions that are not versions', () => {
    expect(thrown(() => parseNetConfList(list({ cniVersions: '1.0.0' }))).message).toBe(
      'invalid cniVersions "1.0.0", must be an array',
    );
    expect(thrown(() => parseNetConfList(list({ cniVersions: ['1.0.0', 1] }))).message).toBe(
      'invalid cniVersions[1] 1, must be a version such as "1.1.0"',
    );
    expect(thrown(() => parseNetConfList(list({ cniVersion: 'x', cniVersions: ['1.0.0'] }))).code).toBe(7);
  });

  it('reads disableCheck, disableGC and loadOnlyInlinedPlugins as libcni does', () => {
    const parsed = parseNetConfList(list({ disableCheck: 'TRUE', disableGC: 'False', loadOnlyInlinedPlugins: true }));
    expect(parsed.disableCheck).toBe(true);
    expect(parsed.disableGC).toBe(false);
    expect(parsed.loadOnlyInlinedPlugins).toBe(true);
    expect(thrown(() => parseNetConfList(list({ disableCheck: 'yes' }))).message).toBe(
      'invalid disableCheck "yes", must be a boolean or "true"/"false"',
    );
    expect(thrown(() => parseNetConfList(list({ disableGC: 1 }))).code).toBe(7);
  });

  it('checks plugins', () => {
    expect(thrown(() => parseNetConfList(list({ plugins: [] }))).toJSON()).toEqual({ code: 7, msg: 'no plugins in list' });
    expect(thrown(() => parseNetConfList(list({ plugins: {} }))).message).toBe('invalid plugins {}, must be an array');
    expect(thrown(() => parseNetConfList(list({ plugins: [null] }))).message).toBe('invalid plugins[0] null, must be an object');
    expect(thrown(() => parseNetConfList(list({ plugins: [{ type: 'a' }, {}] }))).message).toBe('missing plugins[1].type');
    expect(thrown(() => parseNetConfList(list({ plugins: [{ type: '../bin/sh' }] }))).message).toBe(
      'invalid plugins[0].type "../bin/sh", must be a plugin name without "/"',
    );
    expect(thrown(() => parseNetConfList(list({ plugins: [{ type: 'a', ipMasq: 1 }] }))).message).toBe(
      'invalid plugins[0].ipMasq 1, must be a boolean',
    );
  });

  it('accepts a list without plugins unless only inlined plugins may load', () => {
    expect(parseNetConfList('{"cniVersion":"1.1.0","name":"n"}').plugins).toEqual([]);
    expect(thrown(() => parseNetConfList('{"name":"n","loadOnlyInlinedPlugins":"true"}')).message).toBe(
      'loadOnlyInlinedPlugins is true, and no "plugins" key',
    );
  });

  it('requires a valid name and JSON', () => {
    expect(thrown(() => parseNetConfList(list({ name: undefined }))).message).toBe('missing network name');
    expect(thrown(() => parseNetConfList(list({ name: 'a b' }))).message).toBe('invalid characters found in network name');
    expect(thrown(() => parseNetConfList('{')).message).toMatch(/^error parsing configuration list: /);
    expect(thrown(() => parseNetConfList('[]')).code).toBe(6);
  });
});

describe('parsePrevResult', () => {
  const withPrev = (cniVersion: string, prevResult: unknown) =>
    parseNetConf(JSON.stringify({ cniVersion, name: 'n', type: 't', prevResult }));

  it('parses prevResult in the config version, injecting it into a version-less result', () => {
    const parsed = parsePrevResult(withPrev('0.3.1', { ips: [{ version: '4', address: '10.0.0.2/24' }], extra: 1 }));
    expect(parsed.prevResult).toEqual({ cniVersion: '0.3.1', ips: [{ version: '4', address: '10.0.0.2/24' }] });
  });

  it('keeps a result version of the same layout', () => {
    expect(parsePrevResult(withPrev('1.1.0', { cniVersion: '1.0.0' })).prevResult).toEqual({ cniVersion: '1.0.0' });
  });

  it('refuses a result of another layout with code 7', () => {
    const error = thrown(() => parsePrevResult(withPrev('1.1.0', { cniVersion: '0.4.0' })));
    expect(error.toJSON()).toEqual({
      code: 7,
      msg: 'could not parse prevResult: result type supports [1.0.0 1.1.0] but unmarshalled CNIVersion is "0.4.0"',
    });
    expect(CniError.isInstance(error.cause)).toBe(true);
  });

  it('names the bad key', () => {
    expect(thrown(() => parsePrevResult(withPrev('1.0.0', { ips: [{ address: '10.0.0.2' }] }))).message).toBe(
      'could not parse prevResult: invalid ips[0].address "10.0.0.2", must be a CIDR such as "10.1.2.3/24"',
    );
  });

  it('keeps the static type of every other key of the plugin conf', () => {
    interface BridgeConf extends NetConf {
      bridge?: string;
    }
    const parsed = parsePrevResult(parseNetConf(conf({ bridge: 'cni0' })) as BridgeConf);
    expectTypeOf(parsed.name).toEqualTypeOf<string>();
    expectTypeOf(parsed.bridge).toEqualTypeOf<string | undefined>();
    expectTypeOf(parsed.prevResult).toEqualTypeOf<Result | undefined>();
    expect(parsed.bridge).toBe('cni0');
  });

  it('returns a config without prevResult unchanged in content', () => {
    const plain: NetConf = { cniVersion: '1.1.0', name: 'n', type: 't', other: 1 };
    expect(parsePrevResult(plain)).toEqual(plain);
    expect(parsePrevResult(plain)).not.toBe(plain);
  });
});

describe('the parsers throw nothing but CniError', () => {
  const onlyCniError = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (!CniError.isInstance(error)) throw error;
    }
  };
  const parsers = [parseNetConf, parseNetConfList, (input: string | Uint8Array) => parsePrevResult(parseNetConf(input))];

  it('for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parsers.forEach((p) => onlyCniError(() => p(bytes)))));
  });

  it('for arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => parsers.forEach((p) => onlyCniError(() => p(text)))));
  });

  it('for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => parsers.forEach((p) => onlyCniError(() => p(JSON.stringify(value))))),
    );
  });

  // Arbitrary values under the keys the parsers read, so that every reader sees every type.
  const knownKeys = [
    'cniVersion', 'cniVersions', 'name', 'type', 'capabilities', 'runtimeConfig', 'args', 'ipMasq', 'ipam', 'dns',
    'prevResult', 'cni.dev/valid-attachments', 'cni.dev/attachments', 'plugins', 'disableCheck', 'disableGC',
    'loadOnlyInlinedPlugins', '__proto__', 'toString',
  ];
  const field = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom('1.1.0', '0.4.0', 'true', 'net', 'a/b', ''),
    fc.dictionary(fc.constantFrom(...knownKeys, 'ips', 'address', 'nameservers', 'cni'), fc.jsonValue({ maxDepth: 2 })),
  );
  const shaped = fc.record({ name: fc.constantFrom('net', 'n-1', 5, null) }).chain((head) =>
    fc.dictionary(fc.constantFrom(...knownKeys), field).map((rest) => ({ ...head, ...rest })),
  );
  const pluginList = fc.array(fc.dictionary(fc.constantFrom(...knownKeys), field), { maxLength: 3 });

  it('for objects with arbitrary values under the known keys', () => {
    fc.assert(
      fc.property(shaped, pluginList, (object, plugins) => {
        const text = JSON.stringify(object);
        parsers.forEach((p) => onlyCniError(() => p(text)));
        onlyCniError(() => parseNetConfList(JSON.stringify({ ...object, plugins })));
      }),
      { numRuns: 500 },
    );
  });

  it('for values that are not bytes or strings at all', () => {
    for (const value of [undefined, null, 1, {}, [], new ArrayBuffer(2), Symbol('x')]) {
      parsers.forEach((p) => onlyCniError(() => p(value as never)));
    }
  });
});
