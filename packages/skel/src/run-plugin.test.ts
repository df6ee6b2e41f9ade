// SPDX-License-Identifier: Apache-2.0
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_SPEC_VERSIONS, CniError, type Result } from '@cni/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, type PluginRequest } from './plugin.ts';
import { runPlugin, type PluginIo, type PluginStdin } from './run-plugin.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  exited: number | undefined;
}

async function run(
  plugin: Parameters<typeof runPlugin>[0],
  env: Record<string, string>,
  stdin: PluginStdin = '',
  extra: Partial<PluginIo> = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let exited: number | undefined;
  const code = await runPlugin(
    plugin,
    {
      env,
      stdin,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      exit: (c) => (exited = c),
      ...extra,
    },
    { version: '9.8.7' },
  );
  return { code, stdout, stderr, exited };
}

const addEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/var/run/netns/absent',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/nonexistent',
};

const result100: Result = {
  cniVersion: '1.1.0',
  interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/x' }],
  ips: [{ address: '10.1.2.3/24', gateway: '10.1.2.1', interface: 0 }],
};

const seen: PluginRequest[] = [];
const echo = definePlugin({
  name: 'echo',
  versions: ALL_SPEC_VERSIONS,
  add: (request) => {
    seen.push(request);
    return result100;
  },
  del: (request) => {
    seen.push(request);
  },
});

afterEach(() => {
  seen.length = 0;
});

const conf = (version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: version, name: 'net', type: 'echo', ...extra });

describe('runPlugin', () => {
  it('prints the about text on stderr and exits 0 without CNI_COMMAND', async () => {
    const r = await run(echo, {});
    expect(r).toMatchObject({ code: 0, exited: 0, stdout: '' });
    expect(r.stderr).toBe(
      'CNI echo plugin v9.8.7\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n',
    );
  });

  it('answers VERSION with compact JSON and a newline, ignoring stdin', async () => {
    const r = await run(echo, { CNI_COMMAND: 'VERSION' }, 'not json');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n',
    );
  });

  it('reports every missing variable together, in upstream order', async () => {
    const r = await run(echo, { CNI_COMMAND: 'ADD' }, conf('1.0.0'));
    expect(r.code).toBe(1);
    expect(r.exited).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      code: 4,
      msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing',
    });
  });

  it('prints errors as upstream does: 4-space indent, no newline', async () => {
    const r = await run(echo, { ...addEnv, CNI_COMMAND: 'BOGUS' }, conf('1.0.0'));
    expect(r.stdout).toBe('{\n    "code": 4,\n    "msg": "unknown CNI_COMMAND: BOGUS"\n}');
  });

  it('prints the result in the configuration version', async () => {
    const r = await run(echo, addEnv, conf('0.3.1'));
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.cniVersion).toBe('0.3.1');
    expect(printed.ips).toEqual([{ version: '4', interface: 0, address: '10.1.2.3/24', gateway: '10.1.2.1' }]);
    const old = JSON.parse((await run(echo, addEnv, conf('0.2.0'))).stdout);
    expect(old).toMatchObject({ cniVersion: '0.2.0', ip4: { ip: '10.1.2.3/24', gateway: '10.1.2.1' } });
  });

  it('hands the plugin a request with the parsed variables', async () => {
    await run(echo, { ...addEnv, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=p', CNI_PATH: '/a::/b' }, conf('1.0.0', { extra: 1 }));
    const request = seen[0]!;
    expect(request).toMatchObject({
      command: 'ADD',
      containerId: 'c1',
      netns: '/var/run/netns/absent',
      ifName: 'eth0',
      path: ['/a', '/b'],
      netnsOverride: false,
      argsString: 'IgnoreUnknown=1;K8S_POD_NAME=p',
    });
    expect(request.args).toEqual({ IgnoreUnknown: '1', K8S_POD_NAME: 'p' });
    expect(request.conf.extra).toBe(1);
    expect(request.prevResult).toBeUndefined();
    expect(Buffer.from(request.stdinData).toString()).toBe(conf('1.0.0', { extra: 1 }));
  });

  it('parses prevResult lazily, in the configuration version', async () => {
    const prev = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.0.0.2/24' }] };
    await run(echo, addEnv, conf('0.4.0', { prevResult: prev }));
    expect(seen[0]!.prevResult).toMatchObject({ cniVersion: '0.4.0', ips: [{ address: '10.0.0.2/24' }] });
    await run(echo, addEnv, conf('1.0.0', { prevResult: { ips: 3 } }));
    expect(() => seen[1]!.prevResult).toThrow(/could not parse prevResult/);
  });

  it('wraps a plain error as code 999 and passes a CniError through', async () => {
    const failing = definePlugin({
      name: 'failing',
      versions: ['1.0.0'],
      add: () => {
        throw new Error('boom');
      },
      del: () => {
        throw new CniError(11, 'try later', { details: 'busy' });
      },
    });
    expect(JSON.parse((await run(failing, addEnv, conf('1.0.0'))).stdout)).toEqual({ code: 999, msg: 'boom' });
    const del = await run(failing, { ...addEnv, CNI_COMMAND: 'DEL' }, conf('1.0.0'));
    expect(JSON.parse(del.stdout)).toEqual({ code: 11, msg: 'try later', details: 'busy' });
  });

  it('never lets an exception escape, not even from a broken stdout', async () => {
    const code = await runPlugin(echo, {
      env: { ...addEnv, CNI_COMMAND: 'BOGUS' },
      stdin: conf('1.0.0'),
      stdout: {
        write: () => {
          throw new Error('EPIPE');
        },
      },
      stderr: { write: () => {} },
      exit: () => {
        throw new Error('exit hook');
      },
    });
    expect(code).toBe(1);
  });

  it('refuses a version the plugin does not list, with upstream details', async () => {
    const old = definePlugin({ name: 'old', versions: ['0.3.1', '0.4.0'], add: () => result100, del: () => {} });
    const r = await run(old, addEnv, conf('1.0.0'));
    expect(JSON.parse(r.stdout)).toEqual({
      code: 1,
      msg: 'incompatible CNI versions',
      details: 'config is "1.0.0", plugin supports ["0.3.1" "0.4.0"]',
    });
  });

  it('gates CHECK, GC and STATUS by the configuration version', async () => {
    const check = await run(echo, { ...addEnv, CNI_COMMAND: 'CHECK' }, conf('0.3.1'));
    expect(JSON.parse(check.stdout)).toEqual({ code: 1, msg: 'config version does not allow CHECK' });
    const gc = await run(echo, { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf('1.0.0'));
    expect(JSON.parse(gc.stdout)).toEqual({ code: 1, msg: 'config version does not allow GC' });
    const status = await run(echo, { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf('0.4.0'));
    expect(JSON.parse(status.stdout)).toEqual({ code: 1, msg: 'config version does not allow STATUS' });
  });

  it('succeeds with no output for CHECK, GC and STATUS a plugin does not define', async () => {
    for (const command of ['CHECK', 'GC', 'STATUS']) {
      const r = await run(echo, { ...addEnv, CNI_COMMAND: command }, conf('1.1.0'));
      expect(r).toMatchObject({ code: 0, stdout: '' });
    }
  });

  it('refuses the plugin netns as CNI_NETNS with code 8, unless overridden', async () => {
    const own = { ...addEnv, CNI_NETNS: '/proc/self/ns/net' };
    const r = await run(echo, own, conf('1.0.0'));
    expect(JSON.parse(r.stdout)).toEqual({ code: 8, msg: "plugin's netns and netns from CNI_NETNS should not be the same" });
    expect(seen).toHaveLength(0);
    const del = await run(echo, { ...own, CNI_COMMAND: 'DEL' }, conf('1.0.0'));
    expect(JSON.parse(del.stdout).code).toBe(8);
    for (const override of ['1', 'true', 'TRUE']) {
      expect((await run(echo, { ...own, CNI_NETNS_OVERRIDE: override }, conf('1.0.0'))).code).toBe(0);
    }
    expect((await run(echo, { ...own, CNI_NETNS_OVERRIDE: 'yes' }, conf('1.0.0'))).code).toBe(1);
  });

  it('refuses stdin over 10 MiB with code 5', async () => {
    const big = new Uint8Array(10 * 1024 * 1024 + 1).fill(0x20);
    async function* chunks() {
      for (let i = 0; i < big.length; i += 65536) yield big.subarray(i, i + 65536);
    }
    for (const stdin of [big, chunks()]) {
      const r = await run(echo, addEnv, stdin);
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 5 });
      expect(JSON.parse(r.stdout).msg).toMatch(/^error reading from stdin: /);
    }
  });

  it('reports a cniVersion that is not a string as code 6, as upstream decodes it', async () => {
    const r = await run(echo, addEnv, '{"name":"net","type":"echo","cniVersion":1}');
    expect(JSON.parse(r.stdout)).toEqual({
      code: 6,
      msg: 'decoding version from network config: json: cannot unmarshal number into Go struct field .cniVersion of type string',
    });
  });
});

describe('delegate', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function script(name: string, body: string): void {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }

  const chain = definePlugin({
    name: 'chain',
    versions: ALL_SPEC_VERSIONS,
    add: async (request) => request.delegate(String(request.conf.ipam?.type)),
    del: async (request) => request.delegate(String(request.conf.ipam?.type)),
  });

  it('runs the delegate from CNI_PATH with the caller env and stdin, and parses its result', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skel-'));
    // The delegate echoes what it saw, so the test can check the protocol.
    script(
      'ipam',
      `cat > "${dir}/stdin"; env > "${dir}/env"; echo diag >&2\nprintf '{"ips":[{"version":"4","address":"10.9.0.5/16"}]}'`,
    );
    const env = { ...addEnv, CNI_PATH: `/nonexistent:${dir}`, EXTRA: 'kept' };
    const stdin = conf('0.4.0', { ipam: { type: 'ipam' } });
    const r = await run(chain, env, stdin);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.9.0.5/16' }] });
    expect(readFileSync(join(dir, 'stdin'), 'utf8')).toBe(stdin);
    const delegateEnv = readFileSync(join(dir, 'env'), 'utf8');
    expect(delegateEnv).toContain('CNI_COMMAND=ADD');
    expect(delegateEnv).toContain('EXTRA=kept');
    expect(r.stderr).toBe('diag\n');
  });

  it('passes the delegate error through unchanged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skel-'));
    script('ipam', `printf '{"code":11,"msg":"no addresses","details":"pool full"}'; exit 1`);
    const r = await run(chain, { ...addEnv, CNI_COMMAND: 'DEL', CNI_PATH: dir }, conf('1.0.0', { ipam: { type: 'ipam' } }));
    expect(JSON.parse(r.stdout)).toEqual({ code: 11, msg: 'no addresses', details: 'pool full' });
  });

  it('reports a delegate that is not in CNI_PATH', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skel-'));
    const r = await run(chain, { ...addEnv, CNI_PATH: dir }, conf('1.0.0', { ipam: { type: 'nope' } }));
    expect(JSON.parse(r.stdout)).toEqual({ code: 999, msg: `failed to find plugin "nope" in path [${dir}]` });
  });

  it('uses an injected runner, the hook for in-process delegation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skel-'));
    script('ipam', 'exit 3');
    const calls: string[] = [];
    const r = await run(chain, { ...addEnv, CNI_PATH: dir }, conf('1.1.0', { ipam: { type: 'ipam' } }), {
      delegateRunner: async (invocation) => {
        calls.push(`${invocation.command} ${invocation.pluginPath} ${invocation.env.CNI_COMMAND}`);
        return Buffer.from('{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.1/8"}]}');
      },
    });
    expect(r.code).toBe(0);
    expect(calls).toEqual([`ADD ${join(dir, 'ipam')} ADD`]);
  });
});

describe('delegate options', () => {
  it('runs another verb on request, as a failed ADD releases its IPAM address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skel-'));
    try {
      writeFileSync(join(dir, 'ipam'), '');
      const calls: string[] = [];
      const undoing = definePlugin({
        name: 'undoing',
        versions: ['1.0.0'],
        add: async (request) => {
          const result = await request.delegate('ipam');
          await request.delegate('ipam', { cniVersion: '1.0.0', name: 'net', type: 'x' }, { command: 'DEL' });
          throw new CniError(11, `gave back ${result.cniVersion}`);
        },
        del: () => {},
      });
      const r = await run(undoing, { ...addEnv, CNI_PATH: dir }, conf('1.0.0'), {
        delegateRunner: async ({ command, stdin }) => {
          calls.push(`${command} ${Buffer.from(stdin).toString()}`);
          return Buffer.from(command === 'ADD' ? '{"ips":[{"address":"10.0.0.1/8"}]}' : '');
        },
      });
      expect(JSON.parse(r.stdout)).toEqual({ code: 11, msg: 'gave back 1.0.0' });
      expect(calls).toEqual([`ADD ${conf('1.0.0')}`, 'DEL {"cniVersion":"1.0.0","name":"net","type":"x"}']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('debug log', () => {
  it('appends to CNI_LOG_FILE, or the config logFile, and never to stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skel-log-'));
    try {
      const file = join(dir, 'env.log');
      const r = await run(echo, { ...addEnv, CNI_LOG_FILE: file }, conf('1.0.0'));
      expect(JSON.parse(r.stdout).cniVersion).toBe('1.0.0');
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/echo\[\d+\] ADD c1: request /);
      expect(text).toMatch(/: result /);
      const confFile = join(dir, 'conf.log');
      await run(echo, { ...addEnv, CNI_COMMAND: 'BOGUS' }, conf('1.0.0', { logFile: confFile }));
      expect(readFileSync(confFile, 'utf8')).toMatch(/error .*unknown CNI_COMMAND: BOGUS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
