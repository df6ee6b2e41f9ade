// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cacheFilePath,
  CniConfig,
  confListFromBytes,
  LibcniError,
  MultiError,
  PluginError,
  pluginConfFromBytes,
  unknownCapabilities,
  buildOneConfig,
  WELL_KNOWN_CAPABILITIES,
  type InProcessIo,
  type NetworkConfigList,
  type RuntimeConf,
} from './index.ts';

/** A fake plugin: what it saw, and what it answers. */
interface Call {
  type: string;
  command: string;
  env: Record<string, string>;
  conf: Record<string, unknown>;
}
type Fake = (call: Call, io: InProcessIo) => void;

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'libcni-'));
  temps.push(dir);
  return dir;
}

/** A CniConfig whose plugins are fakes run in-process, recording every call. */
function fakeCni(fakes: Record<string, Fake>, extra: { cacheDir?: string } = {}) {
  const calls: Call[] = [];
  const plugins = Object.fromEntries(Object.entries(fakes).map(([type, fake]) => [type, { type, fake }]));
  const cni = new CniConfig({
    path: ['/nonexistent'],
    cacheDir: extra.cacheDir ?? tempDir(),
    env: { HOME: '/root' },
    stderr: null,
    inProcess: {
      plugins,
      run: (plugin: { type: string; fake: Fake }, io) => {
        const call: Call = { type: plugin.type, command: io.env.CNI_COMMAND ?? '', env: io.env, conf: io.stdin ? JSON.parse(io.stdin) : {} };
        calls.push(call);
        try {
          plugin.fake(call, io);
          io.exit(0);
        } catch (error) {
          io.stdout.write(JSON.stringify({ code: (error as { code?: number }).code ?? 999, msg: (error as Error).message }));
          io.exit(1);
        }
      },
    },
  });
  return { cni, calls };
}

/** A plugin that adds an interface and an address, as a main plugin does. */
const mainPlugin =
  (address: string): Fake =>
  (call, io) => {
    if (call.command !== 'ADD') return;
    io.stdout.write(
      JSON.stringify({
        cniVersion: call.conf.cniVersion,
        interfaces: [{ name: call.env.CNI_IFNAME, sandbox: call.env.CNI_NETNS }],
        ips: [{ interface: 0, address }],
      }),
    );
  };
/** A chained plugin: passes prevResult on. */
const passThrough: Fake = (call, io) => {
  if (call.command === 'ADD') io.stdout.write(JSON.stringify(call.conf.prevResult));
};
const failing =
  (code: number, msg: string): Fake =>
  () => {
    throw Object.assign(new Error(msg), { code });
  };

const list = (version: string, types: string[], extra: Record<string, unknown> = {}): NetworkConfigList =>
  confListFromBytes(JSON.stringify({ cniVersion: version, name: 'net1', ...extra, plugins: types.map((type) => ({ type })) }));

const rt: RuntimeConf = { containerId: 'c1', netns: '/var/run/netns/c1', ifName: 'eth0', args: [['IgnoreUnknown', '1']] };

describe('addNetworkList', () => {
  it('runs plugins in order, threads prevResult, injects name and version, caches the result', async () => {
    const { cni, calls } = fakeCni({ main: mainPlugin('10.0.0.2/24'), meta: passThrough });
    const conf = confListFromBytes(
      JSON.stringify({
        cniVersion: '1.1.0',
        name: 'net1',
        plugins: [{ type: 'main', bridge: 'cni0' }, { type: 'meta', capabilities: { portMappings: true, mac: false } }],
      }),
    );
    const result = await cni.addNetworkList(conf, {
      ...rt,
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'c2:00:00:00:00:01', bandwidth: {} },
    });
    expect(result).toMatchObject({ cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24', interface: 0 }] });
    expect(calls.map((c) => `${c.type}:${c.command}`)).toEqual(['main:ADD', 'meta:ADD']);
    expect(calls[0]!.conf).toEqual({ type: 'main', bridge: 'cni0', name: 'net1', cniVersion: '1.1.0' });
    // Only capabilities the plugin enables reach runtimeConfig; prevResult is the previous result.
    expect(calls[1]!.conf.runtimeConfig).toEqual({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    expect(calls[1]!.conf.prevResult).toEqual(result);
    expect(calls[0]!.env).toMatchObject({
      HOME: '/root',
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/var/run/netns/c1',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1',
      CNI_PATH: '/nonexistent',
    });

    const file = cacheFilePath(cni.cacheDir, 'net1', rt);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(cni.cacheDir, 'results')).mode & 0o777).toBe(0o700);
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(cached)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'cniArgs', 'capabilityArgs', 'result']);
    expect(Buffer.from(cached.config, 'base64').toString()).toBe(Buffer.from(conf.bytes).toString());
    expect(cached.result).toEqual(result);
    expect(cni.getNetworkListCachedResult(conf, rt)).toEqual(result);
  });

  it('takes a result without cniVersion to be in the config version', async () => {
    const { cni } = fakeCni({ p: (_c, io) => io.stdout.write('{"ips":[{"address":"10.0.0.3/24"}]}') });
    expect((await cni.addNetworkList(list('1.0.0', ['p']), rt)).cniVersion).toBe('1.0.0');
  });

  it('stops at the first error with upstream text and code, and caches nothing', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24'), b: failing(11, 'try later'), c: passThrough });
    const conf = confListFromBytes('{"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a"},{"type":"b","name":"bee"},{"type":"c"}]}');
    const error = await cni.addNetworkList(conf, rt).catch((e: unknown) => e);
    expect(PluginError.isInstance(error)).toBe(true);
    expect((error as PluginError).message).toBe('plugin type="b" name="bee" failed (add): try later');
    expect((error as PluginError).code).toBe(11);
    expect(calls.map((c) => c.type)).toEqual(['a', 'b']);
    expect(existsSync(cacheFilePath(cni.cacheDir, 'net1', rt))).toBe(false);
  });

  it.each([
    [{ containerId: '' }, 3, 'missing containerID'],
    [{ containerId: '-bad' }, 4, 'invalid characters in containerID; -bad'],
    [{ ifName: 'a-very-long-name0' }, 4, 'interface name is too long'],
    [{ ifName: 'a:b' }, 4, 'interface name contains / or : or whitespace characters'],
    [{ ifName: '..' }, 4, 'interface name is . or ..'],
  ])('validates the attachment %j', async (change, code, message) => {
    const { cni, calls } = fakeCni({ p: mainPlugin('10.0.0.2/24') });
    const error = (await cni.addNetworkList(list('1.0.0', ['p']), { ...rt, ...change }).catch((e: unknown) => e)) as PluginError;
    expect(error.message).toContain(`plugin type="p" failed (add): ${message}`);
    expect(error.code).toBe(code);
    expect(calls).toHaveLength(0);
  });

  it('names a plugin it cannot find', async () => {
    const { cni } = fakeCni({});
    await expect(cni.addNetworkList(list('1.0.0', ['ghost']), rt)).rejects.toThrow(
      'plugin type="ghost" failed (add): failed to find plugin "ghost" in path [/nonexistent]',
    );
  });
});

describe('delNetworkList', () => {
  it('runs plugins in reverse with the cached result, then removes the cache', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24'), b: passThrough });
    const conf = list('0.4.0', ['a', 'b']);
    const result = await cni.addNetworkList(conf, rt);
    calls.length = 0;
    await cni.delNetworkList(conf, rt);
    expect(calls.map((c) => `${c.type}:${c.command}`)).toEqual(['b:DEL', 'a:DEL']);
    for (const call of calls) expect(call.conf.prevResult).toEqual(result);
    expect(existsSync(cacheFilePath(cni.cacheDir, 'net1', rt))).toBe(false);
    // DEL again: no cache, no prevResult, still fine.
    calls.length = 0;
    await cni.delNetworkList(conf, rt);
    expect(calls.map((c) => c.conf.prevResult)).toEqual([undefined, undefined]);
  });

  it.each([
    ['an empty file', ''],
    ['corrupt JSON', '{"kind":"cniCacheV1",'],
    ['a v1 record with a broken result', '{"kind":"cniCacheV1","containerId":"c1","ifName":"eth0","networkName":"net1","result":{"cniVersion":"1.0.0","ips":"x"}}'],
    ['an unknown result version', '{"cniVersion":"7.0.0"}'],
  ])('is never blocked by %s in the cache', async (_what, text) => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24') });
    const file = cacheFilePath(cni.cacheDir, 'net1', rt);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    await cni.delNetworkList(list('1.0.0', ['a']), rt);
    expect(calls[0]!.conf.prevResult).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it('sends no prevResult below 0.4.0 and converts a cached result to the list version', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24') });
    await cni.addNetworkList(list('1.0.0', ['a']), rt);
    calls.length = 0;
    await cni.delNetworkList(list('0.4.0', ['a']), rt);
    expect(calls[0]!.conf.prevResult).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] });
    await cni.addNetworkList(list('1.0.0', ['a']), rt);
    calls.length = 0;
    await cni.delNetworkList(list('0.3.1', ['a']), rt);
    expect(calls[0]!.conf.prevResult).toBeUndefined();
  });

  it('wraps a failure as upstream does', async () => {
    const { cni } = fakeCni({ a: failing(7, 'bad conf') });
    await expect(cni.delNetworkList(list('1.0.0', ['a']), rt)).rejects.toThrow('plugin type="a" failed (delete): bad conf');
  });
});

describe('checkNetworkList', () => {
  it('refuses versions before 0.4.0 and does nothing with disableCheck', async () => {
    const { cni, calls } = fakeCni({ a: passThrough });
    await expect(cni.checkNetworkList(list('0.3.1', ['a']), rt)).rejects.toThrow(
      'configuration version "0.3.1" does not support the CHECK command',
    );
    await cni.checkNetworkList(list('1.0.0', ['a'], { disableCheck: 'true' }), rt);
    expect(calls).toHaveLength(0);
  });

  it('passes the cached result and returns the plugin error unwrapped', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24'), b: (call) => {
      if (call.command === 'CHECK') throw Object.assign(new Error('eth0 has no address'), { code: 100 });
    } });
    const conf = list('1.1.0', ['a', 'b']);
    await cni.addNetworkList(conf, rt).catch(() => undefined);
    const added = await fakeCni({ a: mainPlugin('10.0.0.2/24') }, { cacheDir: cni.cacheDir }).cni.addNetworkList(list('1.1.0', ['a']), rt);
    calls.length = 0;
    const error = await cni.checkNetworkList(conf, rt).catch((e: unknown) => e);
    expect((error as Error).message).toBe('eth0 has no address');
    expect((error as { code: number }).code).toBe(100);
    expect(calls.map((c) => c.conf.prevResult)).toEqual([added, added]);
  });
});

describe('gcNetworkList', () => {
  async function threeAttachments() {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24'), b: passThrough });
    const conf = list('1.1.0', ['a', 'b']);
    for (const id of ['c1', 'c2', 'c3']) await cni.addNetworkList(conf, { ...rt, containerId: id, netns: `/run/netns/${id}` });
    // Another network's attachment is none of this GC's business.
    await cni.addNetworkList(confListFromBytes('{"cniVersion":"1.1.0","name":"other","plugins":[{"type":"a"}]}'), rt);
    calls.length = 0;
    return { cni, calls, conf };
  }

  it('deletes exactly the stale attachments, then sends GC to every plugin', async () => {
    const { cni, calls, conf } = await threeAttachments();
    await cni.gcNetworkList(conf, { validAttachments: [{ containerID: 'c2', ifname: 'eth0' }] });
    const dels = calls.filter((c) => c.command === 'DEL');
    expect(dels.map((c) => `${c.type}:${c.env.CNI_CONTAINERID}:${c.env.CNI_NETNS}`)).toEqual([
      'b:c1:/run/netns/c1',
      'a:c1:/run/netns/c1',
      'b:c3:/run/netns/c3',
      'a:c3:/run/netns/c3',
    ]);
    // The cached CNI_ARGS come back for the synthesized DEL.
    expect(dels[0]!.env.CNI_ARGS).toBe('IgnoreUnknown=1');
    const gcs = calls.filter((c) => c.command === 'GC');
    expect(gcs.map((c) => c.type)).toEqual(['a', 'b']);
    expect(gcs[0]!.conf).toEqual({
      type: 'a',
      name: 'net1',
      cniVersion: '1.1.0',
      'cni.dev/valid-attachments': [{ containerID: 'c2', ifname: 'eth0' }],
      'cni.dev/attachments': [{ containerID: 'c2', ifname: 'eth0' }],
    });
    expect(gcs[0]!.env).toMatchObject({ CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '', CNI_ARGS: '' });
    expect(cni.getCachedAttachments().map((a) => `${a.network}/${a.containerId}`)).toEqual(['net1/c2', 'other/c1']);
  });

  it('without arguments deletes every cached attachment and sends no attachment list', async () => {
    const { cni, calls, conf } = await threeAttachments();
    await cni.gcNetworkList(conf);
    expect(calls.filter((c) => c.command === 'DEL')).toHaveLength(6);
    expect(calls.find((c) => c.command === 'GC')!.conf).not.toHaveProperty('cni.dev/valid-attachments');
    expect(cni.getCachedAttachments().map((a) => a.network)).toEqual(['other']);
  });

  it('goes on after errors and reports them all', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24'), b: failing(999, 'boom') });
    const conf = list('1.1.0', ['a', 'b']);
    await cni.addNetworkList(list('1.1.0', ['a']), rt);
    calls.length = 0;
    const error = (await cni.gcNetworkList(conf, { validAttachments: [] }).catch((e: unknown) => e)) as MultiError;
    expect(MultiError.isInstance(error)).toBe(true);
    expect(error.message.split('\n')).toEqual([
      'failed to delete stale attachment c1 eth0: plugin type="b" failed (delete): boom',
      'failed to GC plugin b: boom',
    ]);
    expect(calls.filter((c) => c.command === 'GC').map((c) => c.type)).toEqual(['a', 'b']);
  });

  it('does nothing with disableGC, and sends no GC below 1.1.0', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24') });
    await cni.addNetworkList(list('1.0.0', ['a']), rt);
    calls.length = 0;
    await cni.gcNetworkList(list('1.0.0', ['a'], { disableGC: true }));
    expect(calls).toHaveLength(0);
    await cni.gcNetworkList(list('1.0.0', ['a']));
    expect(calls.map((c) => c.command)).toEqual(['DEL']);
  });
});

describe('getStatusNetworkList', () => {
  it('stops at the first plugin that is not ready, with its code', async () => {
    const { cni, calls } = fakeCni({ a: () => {}, b: failing(50, 'no leases left'), c: () => {} });
    const error = (await cni.getStatusNetworkList(list('1.1.0', ['a', 'b', 'c'])).catch((e: unknown) => e)) as { code: number };
    expect(error.code).toBe(50);
    expect(calls.map((c) => `${c.type}:${c.command}`)).toEqual(['a:STATUS', 'b:STATUS']);
    calls.length = 0;
    await cni.getStatusNetworkList(list('1.0.0', ['a', 'b']));
    expect(calls).toHaveLength(0);
  });
});

describe('validateNetworkList and getVersionInfo', () => {
  const versionOf =
    (versions: string[]): Fake =>
    (call, io) => {
      if (call.command === 'VERSION') io.stdout.write(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: versions }));
    };

  it('returns the enabled capabilities when every plugin supports the version', async () => {
    const { cni, calls } = fakeCni({ a: versionOf(['1.0.0', '1.1.0']), b: versionOf(['1.1.0']) });
    const conf = confListFromBytes(
      '{"cniVersion":"1.1.0","name":"n","plugins":[{"type":"a","capabilities":{"mac":true,"ips":false}},{"type":"b","capabilities":{"portMappings":true,"mac":true}}]}',
    );
    expect(await cni.validateNetworkList(conf)).toEqual(['mac', 'portMappings']);
    expect(calls[0]!.env).toMatchObject({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' });
    expect(calls[0]!.conf).toEqual({ cniVersion: '1.1.0' });
  });

  it('lists every plugin that is missing or too old', async () => {
    const { cni } = fakeCni({ a: versionOf(['0.4.0']) });
    await expect(cni.validateNetworkList(list('1.0.0', ['a', 'ghost']))).rejects.toThrow(
      '[plugin a does not support config version "1.0.0" failed to find plugin "ghost" in path [/nonexistent]]',
    );
  });

  it('takes a plugin that does not know VERSION for a 0.1.0 plugin, and a bare 0.2.0 answer for 0.1.0 and 0.2.0', async () => {
    const { cni } = fakeCni({
      old: failing(4, 'unknown CNI_COMMAND: VERSION'),
      two: (_c, io) => io.stdout.write('{"cniVersion":"0.2.0"}'),
    });
    expect((await cni.getVersionInfo('old')).supportedVersions).toEqual(['0.1.0']);
    expect((await cni.getVersionInfo('two')).supportedVersions).toEqual(['0.1.0', '0.2.0']);
  });
});

describe('errors', () => {
  it('are LibcniErrors with a cross-realm marker', async () => {
    const { cni } = fakeCni({});
    const error = await cni.addNetworkList(list('1.0.0', ['ghost']), rt).catch((e: unknown) => e);
    expect(LibcniError.isInstance(error)).toBe(true);
    expect(LibcniError.isInstance(new Error('x'))).toBe(false);
  });
});

describe('single plugin configurations', () => {
  it('add, check and del one .conf with its own name and version, cached like a list', async () => {
    const { cni, calls } = fakeCni({ a: mainPlugin('10.0.0.2/24') });
    const plugin = pluginConfFromBytes('{"cniVersion":"0.4.0","name":"single","type":"a","k":"v"}');
    const result = await cni.addNetwork(plugin, rt);
    expect(result).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] });
    expect(calls[0]!.conf).toEqual({ cniVersion: '0.4.0', name: 'single', type: 'a', k: 'v' });
    expect(existsSync(cacheFilePath(cni.cacheDir, 'single', rt))).toBe(true);
    await cni.checkNetwork(plugin, rt);
    await cni.delNetwork(plugin, rt);
    expect(calls.map((c) => c.command)).toEqual(['ADD', 'CHECK', 'DEL']);
    expect(calls[2]!.conf.prevResult).toEqual(result);
    expect(existsSync(cacheFilePath(cni.cacheDir, 'single', rt))).toBe(false);
  });
});

describe('unknownCapabilities', () => {
  it('lists enabled capabilities without a well-known meaning', () => {
    const conf = confListFromBytes(
      '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"a","capabilities":{"mac":true,"portMapings":true,"x":false}},{"type":"b","capabilities":{"io.kubernetes.cri.pod-annotations":true}}]}',
    );
    expect(unknownCapabilities(conf)).toEqual(['plugins[0].capabilities.portMapings']);
  });
});

describe('buildOneConfig', () => {
  it('injects every well-known capability a plugin enables, and only those', () => {
    const capabilityArgs = Object.fromEntries(WELL_KNOWN_CAPABILITIES.map((name, i) => [name, { value: i }]));
    const all = confListFromBytes(
      JSON.stringify({
        cniVersion: '1.1.0',
        name: 'n',
        plugins: [{ type: 'a', capabilities: Object.fromEntries(WELL_KNOWN_CAPABILITIES.map((name) => [name, true])) }, { type: 'b', capabilities: { mac: false } }],
      }),
    );
    const first = buildOneConfig('n', '1.1.0', all.plugins[0]!, undefined, { capabilityArgs: { ...capabilityArgs, unasked: 1 } });
    expect(first.runtimeConfig).toEqual(capabilityArgs);
    // Upstream leaves `capabilities` in the bytes it sends.
    expect(first.capabilities).toBeDefined();
    const second = buildOneConfig('n', '1.1.0', all.plugins[1]!, undefined, { capabilityArgs });
    expect(second).not.toHaveProperty('runtimeConfig');
  });
});
