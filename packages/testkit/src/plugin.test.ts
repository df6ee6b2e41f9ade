// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { createChain, inProcessRunner, PluginFailedError } from './chain.ts';
import { pluginEnv, runInProcess, type CapturedIo } from './plugin.ts';

describe('pluginEnv', () => {
  it('gives only the CNI variables that apply, and PATH', () => {
    const env = pluginEnv({ command: 'ADD', netns: { path: '/var/run/netns/c' }, args: { IgnoreUnknown: '1', K8S_POD_NAME: 'p' }, cniPath: ['/a', '/b'] });
    expect(env).toEqual({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'cnitest',
      CNI_NETNS: '/var/run/netns/c',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p',
      CNI_PATH: '/a:/b',
      PATH: process.env['PATH'],
    });
    expect(Object.keys(pluginEnv({ command: 'VERSION' })).sort()).toEqual(['CNI_COMMAND', 'PATH']);
  });
});

/** A stand-in for skel's runPlugin: echoes what it was given as its result, or fails with code 7. */
function echoPlugin(name: string) {
  return (io: CapturedIo): void => {
    const conf = JSON.parse(io.stdin) as Record<string, unknown>;
    if (conf['fail'] === io.env['CNI_COMMAND']) {
      io.stdout.write(JSON.stringify({ cniVersion: conf['cniVersion'], code: 7, msg: `${name} refuses` }));
      io.exit(1);
      return;
    }
    const seen = (conf['prevResult'] as { seen?: string[] } | undefined)?.seen ?? [];
    if (io.env['CNI_COMMAND'] === 'ADD') io.stdout.write(JSON.stringify({ cniVersion: conf['cniVersion'], seen: [...seen, name], runtimeConfig: conf['runtimeConfig'] }));
    io.stderr.write(`${name} ${io.env['CNI_COMMAND']} prev=${seen.join(',')}\n`);
    io.exit(0);
  };
}

describe('runInProcess', () => {
  it('captures stdout, stderr and the exit status, and parses a CNI error', async () => {
    const out = await runInProcess(echoPlugin('a'), { command: 'ADD', conf: { cniVersion: '1.0.0', fail: 'ADD' } });
    expect(out.exitCode).toBe(1);
    expect(out.error).toEqual({ cniVersion: '1.0.0', code: 7, msg: 'a refuses' });
    expect(out.result).toBeUndefined();
  });
});

describe('createChain', () => {
  const runner = inProcessRunner({ first: echoPlugin('first'), second: echoPlugin('second') });
  const list = {
    cniVersion: '1.0.0',
    name: 'net',
    plugins: [{ type: 'first' }, { type: 'second', capabilities: { portMappings: true, bandwidth: false } }],
  };

  it('threads prevResult through ADD, runs CHECK in order and DEL in reverse with the cached result', async () => {
    const chain = createChain(list, { runner, capabilityArgs: { portMappings: [{ hostPort: 8080 }], bandwidth: { rate: 1 } } });
    const result = await chain.add();
    expect(result).toEqual({ cniVersion: '1.0.0', seen: ['first', 'second'], runtimeConfig: { portMappings: [{ hostPort: 8080 }] } });
    await chain.check();
    await chain.del();
    expect(chain.runs.map(({ type, command, run }) => `${command} ${type} ${run.stderr.trim()}`)).toEqual([
      'ADD first first ADD prev=',
      'ADD second second ADD prev=first',
      'CHECK first first CHECK prev=first,second',
      'CHECK second second CHECK prev=first,second',
      'DEL second second DEL prev=first,second',
      'DEL first first DEL prev=first,second',
    ]);
  });

  it('stops at the first failing plugin with its CNI error', async () => {
    const chain = createChain({ ...list, plugins: [{ type: 'first', fail: 'ADD' }, { type: 'second' }] }, { runner });
    const error = await chain.add().catch((caught: unknown) => caught);
    expect(PluginFailedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ pluginType: 'first', code: 7, msg: 'first refuses' });
    expect(chain.runs).toHaveLength(1);
  });
});
