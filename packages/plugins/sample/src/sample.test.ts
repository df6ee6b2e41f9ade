// SPDX-License-Identifier: Apache-2.0
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import { runPlugin, type PluginIo } from '@cni/skel';
import { describe, expect, it } from 'vitest';
import { sample } from './index.ts';

async function run(env: Record<string, string>, stdin: string, extra: Partial<PluginIo> = {}) {
  let stdout = '';
  const code = await runPlugin(sample, {
    env,
    stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => {} },
    ...extra,
  });
  return { code, stdout };
}

// Any path that exists stands in for the container's netns: the sample only checks it is there.
const env = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/proc/self/ns/net',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/nonexistent',
  CNI_NETNS_OVERRIDE: '1',
});

function prevResultFor(version: string): Record<string, unknown> {
  if (version === '0.1.0' || version === '0.2.0') {
    return { cniVersion: version, ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1' }, dns: {} };
  }
  const ip = version.startsWith('0.') ? { version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 } : { address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 };
  return { cniVersion: version, interfaces: [{ name: 'eth0', sandbox: '/proc/self/ns/net' }], ips: [ip] };
}

const conf = (version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: version, name: 'pods', type: 'sample', anotherAwesomeArg: 'x', ...extra });

describe.each(ALL_SPEC_VERSIONS)('[%s] sample', (version) => {
  it('passes prevResult on unchanged with ADD', async () => {
    const prevResult = prevResultFor(version);
    const r = await run(env('ADD'), conf(version, { prevResult }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject(prevResult);
  });

  it('succeeds DEL without prevResult or netns', async () => {
    const r = await run({ ...env('DEL'), CNI_NETNS: '' }, conf(version));
    expect(r).toEqual({ code: 0, stdout: '' });
  });

  it('checks prevResult with CHECK, from 0.4.0 on', async () => {
    if (!specVersionHas('check', version)) {
      const r = await run(env('CHECK'), conf(version, { prevResult: prevResultFor(version) }));
      expect(JSON.parse(r.stdout)).toEqual({ code: 1, msg: 'config version does not allow CHECK' });
      return;
    }
    expect(await run(env('CHECK'), conf(version, { prevResult: prevResultFor(version) }))).toEqual({ code: 0, stdout: '' });
    const missing = await run(env('CHECK'), conf(version));
    expect(JSON.parse(missing.stdout)).toEqual({ code: 7, msg: 'required prevResult missing' });
  });
});

describe('sample', () => {
  it('requires prevResult on ADD', async () => {
    const r = await run(env('ADD'), conf('1.0.0'));
    expect(JSON.parse(r.stdout)).toEqual({ code: 7, msg: 'must be called as chained plugin' });
  });

  it('requires an address in prevResult', async () => {
    const r = await run(env('ADD'), conf('1.0.0', { prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }] } }));
    expect(JSON.parse(r.stdout)).toEqual({ code: 7, msg: 'got no container IPs' });
  });

  it('requires anotherAwesomeArg, and checks the types of its keys', async () => {
    const prevResult = prevResultFor('1.0.0');
    const missing = await run(env('ADD'), conf('1.0.0', { anotherAwesomeArg: undefined, prevResult }));
    expect(JSON.parse(missing.stdout)).toEqual({ code: 7, msg: 'anotherAwesomeArg must be specified' });
    const flag = await run(env('ADD'), conf('1.0.0', { myAwesomeFlag: 'yes', prevResult }));
    expect(JSON.parse(flag.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('myAwesomeFlag') });
    const rc = await run(env('ADD'), conf('1.0.0', { runtimeConfig: { sample: [1] }, prevResult }));
    expect(JSON.parse(rc.stdout)).toMatchObject({ code: 7, msg: expect.stringContaining('runtimeConfig.sample') });
  });

  it('refuses an absent netns with code 3', async () => {
    const r = await run({ ...env('ADD'), CNI_NETNS: '/var/run/netns/absent-sample' }, conf('1.0.0', { prevResult: prevResultFor('1.0.0') }));
    expect(JSON.parse(r.stdout)).toEqual({
      code: 3,
      msg: 'failed to open netns "/var/run/netns/absent-sample": no such file or directory',
    });
  });

  it('reads CNI_ARGS with upstream rules', async () => {
    const stdin = conf('1.0.0', { prevResult: prevResultFor('1.0.0') });
    expect((await run({ ...env('ADD'), CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web;FOO=1' }, stdin)).code).toBe(0);
    const r = await run({ ...env('ADD'), CNI_ARGS: 'FOO=1' }, stdin);
    expect(JSON.parse(r.stdout)).toEqual({ code: 999, msg: 'ARGS: unknown args ["FOO=1"]' });
  });

  it('answers STATUS, delegating to its IPAM plugin when it has one', async () => {
    expect(await run(env('STATUS'), conf('1.1.0'))).toEqual({ code: 0, stdout: '' });
    const seen: string[] = [];
    const r = await run(env('STATUS'), conf('1.1.0', { ipam: { type: 'sh' } }), {
      env: { ...env('STATUS'), CNI_PATH: '/bin' },
      delegateRunner: async (invocation) => {
        seen.push(`${invocation.type} ${invocation.command}`);
        return new Uint8Array();
      },
    });
    expect(r.code).toBe(0);
    expect(seen).toEqual(['sh STATUS']);
  });

  it('answers GC with success, having nothing to collect', async () => {
    expect(await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf('1.1.0'))).toEqual({ code: 0, stdout: '' });
  });
});
