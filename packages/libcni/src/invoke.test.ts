// SPDX-License-Identifier: Apache-2.0
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CniConfig, confListFromBytes, decodeVersionInfo, findInPath, pluginEnv, RawExec } from './index.ts';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'libcni-exec-'));
  temps.push(dir);
  return dir;
}
/** A fake plugin executable (a test fake: plugins under test never go through a shell). */
function script(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const collect = () => {
  const chunks: string[] = [];
  return { write: (chunk: string | Uint8Array) => chunks.push(Buffer.from(chunk).toString()), text: () => chunks.join('') };
};
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => Buffer.from(data).toString();

describe('findInPath', () => {
  it('finds the first regular file in path order, with upstream texts otherwise', () => {
    const a = tempDir();
    const b = tempDir();
    mkdirSync(join(a, 'bridge'));
    script(b, 'bridge', 'exit 0');
    script(a, 'tuning', 'exit 0');
    script(b, 'tuning', 'exit 0');
    expect(findInPath('bridge', [a, b])).toBe(join(b, 'bridge'));
    expect(findInPath('tuning', [a, b])).toBe(join(a, 'tuning'));
    expect(() => findInPath('', [a])).toThrow('no plugin name provided');
    expect(() => findInPath('../x', [a])).toThrow('invalid plugin name: ../x');
    expect(() => findInPath('x', [])).toThrow('no paths provided');
    expect(() => findInPath('x', [a, b])).toThrow(`failed to find plugin "x" in path [${a} ${b}]`);
  });
});

describe('pluginEnv', () => {
  it('is the runtime environment plus the CNI variables, which win; empty values are set', () => {
    const env = pluginEnv({ command: 'DEL', pluginArgs: [['K', 'V'], ['A', 'B']] }, { PATH: '/bin', CNI_COMMAND: 'ADD', X: undefined });
    expect(env).toEqual({
      PATH: '/bin',
      CNI_COMMAND: 'DEL',
      CNI_CONTAINERID: '',
      CNI_NETNS: '',
      CNI_ARGS: 'K=V;A=B',
      CNI_IFNAME: '',
      CNI_PATH: '',
    });
  });
});

describe('RawExec', () => {
  it('passes stdin and the environment, returns stdout and passes stderr on', async () => {
    const dir = tempDir();
    const plugin = script(dir, 'p', 'echo "$CNI_COMMAND:$FOO" >&2; cat');
    const stderr = collect();
    const out = await new RawExec({ stderr }).execPlugin(plugin, bytes('{"a":1}'), { FOO: 'bar', CNI_COMMAND: 'ADD', PATH: '/usr/bin:/bin' });
    expect(text(out)).toBe('{"a":1}');
    expect(stderr.text()).toBe('ADD:bar\n');
  });

  it('parses the error a plugin prints', async () => {
    const dir = tempDir();
    const plugin = script(dir, 'p', `echo '{"code":7,"msg":"invalid mode","details":"mode \\"x\\""}'; exit 1`);
    await expect(new RawExec({ stderr: null }).execPlugin(plugin, bytes(''), {})).rejects.toMatchObject({
      code: 7,
      message: 'invalid mode',
      details: 'mode "x"',
    });
  });

  it('reports stderr when a plugin fails without a word on stdout', async () => {
    const dir = tempDir();
    const quiet = script(dir, 'quiet', 'exit 3');
    const noisy = script(dir, 'noisy', 'echo "panic: oops" >&2; exit 2');
    const garbled = script(dir, 'garbled', 'echo "not json"; exit 1');
    const exec = new RawExec({ stderr: null });
    await expect(exec.execPlugin(quiet, bytes(''), {})).rejects.toThrow('netplugin failed with no error message: exit status 3');
    await expect(exec.execPlugin(noisy, bytes(''), {})).rejects.toThrow('netplugin failed: "panic: oops\\n": exit status 2');
    await expect(exec.execPlugin(garbled, bytes(''), {})).rejects.toThrow(
      'netplugin failed but error parsing its diagnostic message "not json\\n"',
    );
  });

  it('kills a plugin that outlives its time limit', async () => {
    const dir = tempDir();
    script(dir, 'slow', 'exec sleep 30');
    const cni = new CniConfig({ path: [dir], cacheDir: tempDir(), timeout: 200, stderr: null, env: { PATH: process.env.PATH } });
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"slow"}]}');
    const started = Date.now();
    await expect(cni.addNetworkList(list, { containerId: 'c', ifName: 'eth0' })).rejects.toThrow(/failed \(add\): plugin ".*slow" was stopped: timed out/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops on the caller’s signal', async () => {
    const dir = tempDir();
    const plugin = script(dir, 'slow', 'exec sleep 30');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('runtime shutting down')), 100);
    await expect(new RawExec({ stderr: null }).execPlugin(plugin, bytes(''), { PATH: process.env.PATH ?? '' }, { signal: controller.signal })).rejects.toThrow(
      'was stopped: runtime shutting down',
    );
  });

  it('retries while the executable is being written (text file busy)', async () => {
    const dir = tempDir();
    const plugin = script(dir, 'p', 'echo ok');
    // An open write handle makes exec fail with ETXTBSY until it is closed.
    const fd = openSync(plugin, 'r+');
    setTimeout(() => closeSync(fd), 300);
    const out = await new RawExec({ stderr: null }).execPlugin(plugin, bytes(''), {});
    expect(text(out)).toBe('ok\n');
  });

  it('runs a plugin through a wrapper command', async () => {
    const dir = tempDir();
    const plugin = script(dir, 'p', 'echo "$0"');
    const wrapper = script(dir, 'wrap', 'echo wrapped; exec "$@"');
    const out = await new RawExec({ stderr: null, wrapper: [wrapper] }).execPlugin(plugin, bytes(''), {});
    expect(text(out)).toBe(`wrapped\n${plugin}\n`);
  });
});

describe('the exec path end to end', () => {
  it('ADD through a real process gives what the plugin printed, and the cache', async () => {
    const dir = tempDir();
    const log = join(dir, 'log');
    script(
      dir,
      'echoer',
      `cat > "${log}.$CNI_COMMAND"; env > "${log}.env"; [ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}'; exit 0`,
    );
    const cni = new CniConfig({ path: [dir], cacheDir: tempDir(), stderr: null, env: { PATH: process.env.PATH, RUNTIME: 'yes' } });
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"echoer","k":1}]}');
    const rt = { containerId: 'c', netns: '/x', ifName: 'eth0' };
    const result = await cni.addNetworkList(list, rt);
    expect(result).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.9.0.2/24' }] });
    expect(JSON.parse(readFileSync(`${log}.ADD`, 'utf8'))).toEqual({ type: 'echoer', k: 1, name: 'n', cniVersion: '1.0.0' });
    const env = readFileSync(`${log}.env`, 'utf8');
    expect(env).toContain('RUNTIME=yes');
    expect(env).toContain('CNI_PATH=' + dir);
    await cni.delNetworkList(list, rt);
    expect(JSON.parse(readFileSync(`${log}.DEL`, 'utf8')).prevResult).toEqual(result);
  });
});

describe('decodeVersionInfo', () => {
  it('follows upstream PluginDecoder', () => {
    expect(decodeVersionInfo(bytes('{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}')).supportedVersions).toEqual(['0.4.0', '1.0.0']);
    expect(() => decodeVersionInfo(bytes('{}'))).toThrow('decoding version info: missing field cniVersion');
    expect(() => decodeVersionInfo(bytes('{"cniVersion":"0.3.0"}'))).toThrow('decoding version info: missing field supportedVersions');
    expect(() => decodeVersionInfo(bytes('x'))).toThrow(/^decoding version info: /);
  });
});
