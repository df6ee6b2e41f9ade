// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  confFiles,
  confListFromBytes,
  ConfigError,
  loadAllConfLists,
  loadConf,
  loadConfList,
  NetworkNotFoundError,
  pluginConfFromBytes,
} from './index.ts';

const fixtures = new URL('./__fixtures__/', import.meta.url).pathname;
const netd = join(fixtures, 'net.d');
const types = (list: { plugins: readonly { network: { type: string } }[] }) => list.plugins.map((p) => p.network.type);

let temp: string | undefined;
afterEach(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  temp = undefined;
});
function tempDir(files: Record<string, string>): string {
  temp = mkdtempSync(join(tmpdir(), 'libcni-conf-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(temp, name, '..'), { recursive: true });
    writeFileSync(join(temp, name), text);
  }
  return temp;
}

describe('loadConfList on upstream example configurations', () => {
  it('loads the SPEC.md example list and negotiates the highest version', () => {
    const list = loadConfList(netd, 'dbnet');
    expect(list.cniVersion).toBe('1.1.0');
    expect(types(list)).toEqual(['bridge', 'tuning', 'portmap']);
    expect(list.plugins[1]?.network.capabilities).toEqual({ mac: true });
    expect(list.file).toBe(join(netd, '10-dbnet.conflist'));
    // The cache keeps the bytes as read.
    expect(Buffer.from(list.bytes).toString()).toContain('"keyA"');
  });

  it('appends <dir>/<name>/*.conf plugins in name order, ignoring other extensions', () => {
    const list = loadConfList(netd, 'mynet');
    expect(types(list)).toEqual(['bridge', 'tuning', 'portmap']);
    // cniVersions entries newer than this library (9.9.9) are dropped.
    expect(list.cniVersion).toBe('1.0.0');
    expect(list.disableCheck).toBe(true);
  });

  it('loads only the inlined plugins with loadOnlyInlinedPlugins', () => {
    const list = loadConfList(netd, 'inlined');
    expect(types(list)).toEqual(['loopback']);
    expect(list.loadOnlyInlinedPlugins).toBe(true);
    expect(list.disableGC).toBe(false);
  });

  it('lifts the cnitool README single .conf to a list of one', () => {
    const list = loadConfList(netd, 'myptp');
    expect(list.name).toBe('myptp');
    expect(list.cniVersion).toBe('0.4.0');
    expect(types(list)).toEqual(['ptp']);
    expect(list.plugins[0]?.network.ipMasq).toBe(true);
  });

  it('falls back to .json single configurations', () => {
    expect(types(loadConfList(netd, 'legacy'))).toEqual(['bridge']);
  });

  it('says which network is missing, and where', () => {
    expect(() => loadConfList(netd, 'nope')).toThrow(`no net configuration with name "nope" in ${netd}`);
    const empty = tempDir({ 'readme.txt': 'x' });
    expect(() => loadConfList(empty, 'x')).toThrow(`no net configurations found in ${empty}`);
    try {
      loadConfList(empty, 'x');
    } catch (error) {
      expect(NetworkNotFoundError.isInstance(error) && error.noConfigs).toBe(true);
    }
  });

  it('stops at a list that does not parse, naming the file and the key', () => {
    const dir = join(fixtures, 'broken');
    let caught: unknown;
    try {
      loadConfList(dir, 'nothere');
    } catch (error) {
      caught = error;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    const error = caught as ConfigError;
    expect(error.message).toContain(`"${join(dir, '20-bad.conflist')}"`);
    expect(error.key).toBe('plugins[1].type');
    expect(error.file).toBe(join(dir, '20-bad.conflist'));
    // A list before the broken one is still found: files are read in name order.
    expect(loadConfList(dir, 'ok').name).toBe('ok');
  });

  it('says "not found", not "no configurations", when only lists exist', () => {
    const dir = tempDir({ '10-a.conflist': '{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"x"}]}' });
    expect(() => loadConfList(dir, 'b')).toThrow(`no net configuration with name "b" in ${dir}`);
  });

  it('sorts file names by bytes as Go does', () => {
    const dir = tempDir({
      'b.conflist': '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"second"}]}',
      'B.conflist': '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"first"}]}',
    });
    expect(types(loadConfList(dir, 'n'))).toEqual(['first']);
  });

  it('refuses a list whose plugins all come from a missing folder', () => {
    const dir = tempDir({ '10-x.conflist': '{"cniVersion":"1.0.0","name":"x"}' });
    expect(() => loadConfList(dir, 'x')).toThrow('no plugin configs found');
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'a.conf'), '{"type":"loopback"}');
    expect(types(loadConfList(dir, 'x'))).toEqual(['loopback']);
  });

  it('lists every network of a folder', () => {
    expect(loadAllConfLists(netd).map((l) => l.name)).toEqual(['dbnet', 'mynet', 'inlined', 'myptp', 'legacy']);
  });
});

describe('confListFromBytes', () => {
  it.each([
    ['{', 'error parsing configuration list'],
    ['{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}', 'missing network name'],
    ['{"name":"n","plugins":[]}', 'no plugins in list'],
    ['{"name":"n","loadOnlyInlinedPlugins":true}', 'loadOnlyInlinedPlugins'],
    ['{"name":"n","disableCheck":"maybe","plugins":[{"type":"x"}]}', 'disableCheck'],
    ['{"name":"n","cniVersions":"1.0.0","plugins":[{"type":"x"}]}', 'cniVersions'],
    ['{"name":"n","plugins":[{"type":"a/b"}]}', 'plugins[0].type'],
  ])('refuses %s', (text, expected) => {
    expect(() => confListFromBytes(text)).toThrow(expected);
    expect(() => confListFromBytes(text)).toThrow(/^error parsing configuration list: /);
  });

  it('keeps unknown keys of plugin objects', () => {
    const list = confListFromBytes('{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x","custom":{"a":[1]}}]}');
    expect(JSON.parse(Buffer.from(list.plugins[0]!.bytes).toString())).toEqual({ type: 'x', custom: { a: [1] } });
  });

  it('takes an empty cniVersion as 0.1.0', () => {
    expect(confListFromBytes('{"name":"n","plugins":[{"type":"x"}]}').cniVersion).toBe('0.1.0');
  });
});

describe('single plugin configurations', () => {
  it('requires a type', () => {
    expect(() => pluginConfFromBytes('{"name":"x"}', '/etc/x.conf')).toThrow(`error parsing configuration "/etc/x.conf": missing 'type'`);
  });

  it('loadConf finds the first file of that name', () => {
    const dir = tempDir({
      '10-a.conf': '{"name":"a","type":"first"}',
      '20-a.json': '{"name":"a","type":"second"}',
      '30-dir.conf/x': '',
    });
    expect(loadConf(dir, 'a').network.type).toBe('first');
    expect(confFiles(dir, ['.conf']).map((f) => f.slice(dir.length + 1))).toEqual(['10-a.conf']);
  });

  it('a missing folder holds no files', () => {
    expect(confFiles('/nonexistent/libcni', ['.conf'])).toEqual([]);
  });
});
