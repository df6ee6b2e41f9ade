// SPDX-License-Identifier: Apache-2.0
// The same plugin value run two ways, in-process through skel's runPlugin and as an executable
// a runtime starts: libcni's API must give the same results, errors, stderr and cache.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniConfig, confListFromBytes, type InProcessIo, type RuntimeConf } from './index.ts';

/**
 * The plugin, as source: bundled once as the executable a runtime starts and once as a module
 * this test imports, so both runs use the same code. (A file importing @cni/skel could not live
 * in libcni's src: libcni and skel share a layer.)
 */
const PLUGIN_SOURCE = `
import { ALL_SPEC_VERSIONS, CniError } from '@cni/spec';
import { definePlugin, runPlugin } from '@cni/skel';

export const echo = definePlugin({
  name: 'echo',
  versions: ALL_SPEC_VERSIONS,
  add: (request) => {
    if (request.conf.fail === true) throw new CniError(11, 'asked to fail', { details: 'ifname ' + request.ifName });
    const previous = request.prevResult;
    const index = (previous?.interfaces ?? []).length;
    return {
      cniVersion: '1.1.0',
      interfaces: [...(previous?.interfaces ?? []), { name: request.ifName, sandbox: request.netns }],
      ips: [...(previous?.ips ?? []), { interface: index, address: String(request.conf.address ?? '10.0.0.2/24') }],
      routes: [{ dst: '0.0.0.0/0', gw: String(request.conf.gateway ?? '10.0.0.1') }],
      dns: { nameservers: [String(request.conf.runtimeConfig?.mac ?? 'none')] },
    };
  },
  del: () => {},
  check: (request) => {
    if (!request.prevResult) throw new CniError(7, 'required prevResult missing');
  },
});
export { runPlugin };
`;

interface EchoModule {
  echo: unknown;
  runPlugin: (plugin: unknown, io: InProcessIo) => Promise<number>;
}

let binDir: string;
let echo: unknown;
let runPlugin: EchoModule['runPlugin'];
const temps: string[] = [];

beforeAll(async () => {
  binDir = mkdtempSync(join(tmpdir(), 'libcni-bin-'));
  temps.push(binDir);
  const outfile = join(binDir, 'echo');
  const bundle = (contents: string, file: string, banner = '') =>
    build({
      stdin: { contents, loader: 'ts', resolveDir: new URL('.', import.meta.url).pathname },
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@cni/source'],
      banner: { js: banner },
      logLevel: 'silent',
    });
  await bundle(`${PLUGIN_SOURCE}\nawait runPlugin(echo);\n`, outfile, '#!/usr/bin/env node');
  chmodSync(outfile, 0o755);
  const modulePath = join(binDir, 'echo-module.mjs');
  await bundle(PLUGIN_SOURCE, modulePath);
  ({ echo, runPlugin } = (await import(modulePath)) as EchoModule);
}, 30_000);
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Two CniConfigs over fresh caches: one runs `echo` as an executable, one in-process. */
function pair() {
  const make = (inProcess: boolean) => {
    const stderr: string[] = [];
    const cacheDir = mkdtempSync(join(tmpdir(), 'libcni-cache-'));
    temps.push(cacheDir);
    const cni = new CniConfig({
      path: [binDir],
      cacheDir,
      // A runtime-like environment: nothing but PATH (NODE_EXTRA_CA_CERTS would slow node down).
      env: { PATH: process.env.PATH },
      stderr: { write: (chunk) => stderr.push(Buffer.from(chunk).toString()) },
      ...(inProcess ? { inProcess: { plugins: { echo }, run: runPlugin } } : {}),
    });
    return { cni, stderr, cacheDir };
  };
  return { exec: make(false), inProcess: make(true) };
}

const list = confListFromBytes(
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'twoways',
    plugins: [
      { type: 'echo', address: '10.1.0.2/24' },
      { type: 'echo', address: '10.2.0.2/24', gateway: '10.2.0.1', capabilities: { mac: true } },
    ],
  }),
);
const rt: RuntimeConf = { containerId: 'c1', netns: '/var/run/netns/c1', ifName: 'eth0', capabilityArgs: { mac: '0a:00:00:00:00:01' } };

describe('in-process and exec runs of the same plugin', () => {
  it('give the same result, stderr and cache file for ADD, CHECK and DEL', async () => {
    const { exec, inProcess } = pair();
    const viaExec = await exec.cni.addNetworkList(list, rt);
    const viaInProcess = await inProcess.cni.addNetworkList(list, rt);
    expect(viaInProcess).toEqual(viaExec);
    expect(viaExec).toMatchObject({
      cniVersion: '1.0.0',
      ips: [
        { interface: 0, address: '10.1.0.2/24' },
        { interface: 1, address: '10.2.0.2/24' },
      ],
      dns: { nameservers: ['0a:00:00:00:00:01'] },
    });
    expect(inProcess.stderr).toEqual(exec.stderr);
    const read = (dir: string) => readFileSync(join(dir, 'results', 'twoways-c1-eth0'), 'utf8');
    expect(read(inProcess.cacheDir)).toBe(read(exec.cacheDir));

    await exec.cni.checkNetworkList(list, rt);
    await inProcess.cni.checkNetworkList(list, rt);
    await exec.cni.delNetworkList(list, rt);
    await inProcess.cni.delNetworkList(list, rt);
    expect(readdirSync(join(exec.cacheDir, 'results'))).toEqual([]);
    expect(readdirSync(join(inProcess.cacheDir, 'results'))).toEqual([]);
  });

  it('give the same error', async () => {
    const { exec, inProcess } = pair();
    const failing = confListFromBytes('{"cniVersion":"0.4.0","name":"bad","plugins":[{"type":"echo","fail":true}]}');
    const errors = await Promise.all(
      [exec, inProcess].map(({ cni }) => cni.addNetworkList(failing, rt).then(() => new Error('no error') as Error & { code?: number }, (e: unknown) => e as Error & { code?: number })),
    );
    expect(errors[0]!.message).toBe('plugin type="echo" failed (add): asked to fail; ifname eth0');
    expect(errors[0]!.code).toBe(11);
    expect(errors[1]!.message).toBe(errors[0]!.message);
    expect(errors[1]!.code).toBe(errors[0]!.code);
  });

  it('give the same VERSION answer and the same conversions for old versions', async () => {
    const { exec, inProcess } = pair();
    expect(await inProcess.cni.getVersionInfo('echo')).toEqual(await exec.cni.getVersionInfo('echo'));
    const old = confListFromBytes('{"cniVersion":"0.2.0","name":"old","plugins":[{"type":"echo"}]}');
    const results = await Promise.all([exec, inProcess].map(({ cni }) => cni.addNetworkList(old, rt)));
    expect(results[0]).toEqual({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.2/24', routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] }, dns: { nameservers: ['none'] } });
    expect(results[1]).toEqual(results[0]);
  });
});
