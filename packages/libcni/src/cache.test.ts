// SPDX-License-Identifier: Apache-2.0
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheRecord, CniConfig, confListFromBytes, listCachedAttachments, readCachedConfig, readCachedResult, writeCache } from './index.ts';

const fixtures = new URL('./__fixtures__/cache/', import.meta.url).pathname;
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A cache folder holding the upstream-written fixtures. */
function upstreamCache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'libcni-cache-'));
  temps.push(dir);
  mkdirSync(join(dir, 'results'));
  for (const name of readdirSync(fixtures)) copyFileSync(join(fixtures, name), join(dir, 'results', name));
  return dir;
}
const dbnet = confListFromBytes('{"cniVersion":"1.0.0","name":"dbnet","plugins":[{"type":"bridge"}]}');

describe('a cache written by upstream libcni', () => {
  it('lists its attachments with everything a later DEL needs', () => {
    const dir = upstreamCache();
    const [attachment, ...rest] = listCachedAttachments(dir);
    // The legacy file (a raw result) is not a v1 record: it is not an attachment.
    expect(rest).toEqual([]);
    expect(attachment).toMatchObject({
      containerId: 'upstream-c1',
      network: 'dbnet',
      ifName: 'eth0',
      netns: '/var/run/netns/upstream-c1',
      cniArgs: [['IgnoreUnknown', '1'], ['IP', '10.1.0.5']],
      capabilityArgs: { mac: 'c2:11:22:33:44:55', portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] },
    });
    expect(JSON.parse(Buffer.from(attachment!.config).toString()).plugins[0].bridge).toBe('cni0');
    expect(listCachedAttachments(dir, 'upstream-c1')).toHaveLength(1);
    expect(listCachedAttachments(dir, 'c1')).toHaveLength(0);
  });

  it('gives its result in the list version', () => {
    const dir = upstreamCache();
    const rt = { containerId: 'upstream-c1', ifName: 'eth0' };
    expect(readCachedResult(dir, 'dbnet', '1.0.0', rt)).toMatchObject({
      cniVersion: '1.0.0',
      ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 1 }],
    });
    expect(readCachedResult(dir, 'dbnet', '0.4.0', rt)).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4' }] });
    const cached = readCachedConfig(dir, 'dbnet', rt);
    expect(cached?.rt.args).toEqual([['IgnoreUnknown', '1'], ['IP', '10.1.0.5']]);
    expect(cached?.rt.capabilityArgs).toHaveProperty('mac');
  });

  it('reads a legacy cache (the raw result)', () => {
    const dir = upstreamCache();
    expect(readCachedResult(dir, 'dbnet', '1.0.0', { containerId: 'legacy-c2', ifName: 'eth0' })).toMatchObject({
      cniVersion: '1.0.0',
      ips: [{ address: '10.1.0.9/16' }],
    });
    expect(() => readCachedConfig(dir, 'dbnet', { containerId: 'legacy-c2', ifName: 'eth0' })).toThrow('has wrong kind');
  });

  it('lets GC delete the upstream attachment with its cached netns and arguments', async () => {
    const dir = upstreamCache();
    const seen: Record<string, string>[] = [];
    const cni = new CniConfig({
      path: [],
      cacheDir: dir,
      stderr: null,
      env: {},
      inProcess: {
        plugins: { bridge: 'bridge' },
        run: (_plugin: string, io) => {
          seen.push({ ...io.env, stdin: io.stdin });
          io.exit(0);
        },
      },
    });
    await cni.gcNetworkList(dbnet, { validAttachments: [] });
    expect(seen[0]).toMatchObject({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'upstream-c1', CNI_NETNS: '/var/run/netns/upstream-c1', CNI_ARGS: 'IgnoreUnknown=1;IP=10.1.0.5' });
    expect(JSON.parse(seen[0]!.stdin!).prevResult.ips[0].address).toBe('10.1.0.5/16');
    expect(listCachedAttachments(dir)).toEqual([]);
  });
});

describe('the cache we write', () => {
  it('has exactly upstream\'s fields, in its order, with Go\'s omitempty', () => {
    const full = cacheRecord(
      { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] },
      new TextEncoder().encode('{"x":1}'),
      'n',
      { containerId: 'c', netns: '/n', ifName: 'eth0', args: [['A', 'B']], capabilityArgs: { mac: 'm' } },
    );
    const upstream = JSON.parse(readFileSync(join(fixtures, 'dbnet-upstream-c1-eth0'), 'utf8'));
    expect(Object.keys(full)).toEqual(Object.keys(upstream));
    expect(full.config).toBe(Buffer.from('{"x":1}').toString('base64'));
    const bare = cacheRecord(undefined, new Uint8Array(), 'n', { containerId: 'c', ifName: 'eth0', args: [], capabilityArgs: {} });
    expect(Object.keys(bare)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName']);
  });

  it('is written atomically: no temporary file is left, and hidden files are never attachments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'libcni-cache-'));
    temps.push(dir);
    writeCache(dir, cacheRecord(undefined, new Uint8Array(), 'n', { containerId: 'c', ifName: 'eth0' }));
    expect(readdirSync(join(dir, 'results'))).toEqual(['n-c-eth0']);
    writeFileSync(join(dir, 'results', '.n-half.tmp'), readFileSync(join(dir, 'results', 'n-c-eth0')));
    expect(listCachedAttachments(dir).map((a) => a.containerId)).toEqual(['c']);
  });
});
