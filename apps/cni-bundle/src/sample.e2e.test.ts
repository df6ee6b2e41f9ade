// SPDX-License-Identifier: Apache-2.0
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_SPEC_VERSIONS, specVersionHas } from '@cni/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const binDir = new URL('../dist/bin/', import.meta.url).pathname;
const sampleBin = join(binDir, 'sample');

function execute(env: Record<string, string>, stdin: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(sampleBin, [], { env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

let dir: string;
let netns: string;
let netnsName: string | undefined;

beforeAll(() => {
  if (!existsSync(sampleBin)) throw new Error(`"${sampleBin}" is missing: run \`pnpm build\` in apps/cni-bundle first`);
  dir = mkdtempSync(join(tmpdir(), 'sample-e2e-'));
  if (process.getuid?.() === 0) {
    netnsName = `cni-sample-e2e-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', netnsName]);
    if (add.status !== 0) throw new Error(`failed to add netns "${netnsName}": ${add.stderr}`);
    netns = `/var/run/netns/${netnsName}`;
  } else {
    netns = join(dir, 'netns');
    writeFileSync(netns, '');
  }
});

afterAll(() => {
  if (netnsName) spawnSync('ip', ['netns', 'delete', netnsName]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function prevResultFor(version: string): Record<string, unknown> {
  if (version === '0.1.0' || version === '0.2.0') return { cniVersion: version, ip4: { ip: '10.1.0.5/16' }, dns: {} };
  const ip = version.startsWith('0.') ? { version: '4', address: '10.1.0.5/16' } : { address: '10.1.0.5/16' };
  return { cniVersion: version, interfaces: [{ name: 'eth0', sandbox: netns }], ips: [{ ...ip, interface: 0 }] };
}

const env = (command: string): Record<string, string> => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'e2e-ctr',
  CNI_NETNS: netns,
  CNI_IFNAME: 'eth0',
  CNI_PATH: binDir,
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web',
});

describe.each(ALL_SPEC_VERSIONS)('[%s] the built sample, as a runtime runs it', (version) => {
  const conf = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ cniVersion: version, name: 'pods', type: 'sample', anotherAwesomeArg: 'x', ...extra });

  it('passes prevResult on with ADD, then DEL succeeds with it and without netns', async () => {
    const prevResult = prevResultFor(version);
    const add = await execute(env('ADD'), conf({ prevResult }));
    expect(add.status, add.stdout).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject(prevResult);
    expect(await execute(env('DEL'), conf({ prevResult: JSON.parse(add.stdout) }))).toMatchObject({ status: 0, stdout: '' });
    expect(await execute({ ...env('DEL'), CNI_NETNS: '' }, conf())).toMatchObject({ status: 0, stdout: '' });
  });

  it('answers CHECK from 0.4.0 and GC/STATUS from 1.1.0, refusing them before', async () => {
    const check = await execute(env('CHECK'), conf({ prevResult: prevResultFor(version) }));
    if (specVersionHas('check', version)) expect(check).toMatchObject({ status: 0, stdout: '' });
    else expect(JSON.parse(check.stdout)).toEqual({ code: 1, msg: 'config version does not allow CHECK' });
    for (const verb of ['GC', 'STATUS']) {
      const outcome = await execute({ CNI_COMMAND: verb, CNI_PATH: binDir }, conf());
      if (specVersionHas('gc', version)) expect(outcome).toMatchObject({ status: 0, stdout: '' });
      else expect(JSON.parse(outcome.stdout)).toEqual({ code: 1, msg: `config version does not allow ${verb}` });
    }
  });
});

describe('the built sample', () => {
  it('answers VERSION with every spec version, and prints its about text', async () => {
    const version = await execute({ CNI_COMMAND: 'VERSION' }, '');
    expect(version.stdout).toBe(`${JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ALL_SPEC_VERSIONS })}\n`);
    const about = await execute({}, '');
    expect(about).toMatchObject({ status: 0, stdout: '' });
    expect(about.stderr).toMatch(/^CNI sample plugin v\d/);
  });

  it('delegates STATUS to its IPAM plugin in CNI_PATH, passing its error through unchanged', async () => {
    const ipamDir = join(dir, 'ipam-bin');
    mkdirSync(ipamDir);
    const ipam = join(ipamDir, 'fake-ipam');
    writeFileSync(ipam, `#!/bin/sh\n[ "$CNI_COMMAND" = STATUS ] || exit 9\nprintf '{"code":50,"msg":"pool unavailable","details":"from fake-ipam"}'\nexit 1\n`);
    chmodSync(ipam, 0o755);
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'pods', type: 'sample', anotherAwesomeArg: 'x', ipam: { type: 'fake-ipam' } });
    const outcome = await execute({ CNI_COMMAND: 'STATUS', CNI_PATH: `${binDir}:${ipamDir}` }, conf);
    expect(outcome.status).toBe(1);
    expect(JSON.parse(outcome.stdout)).toEqual({ code: 50, msg: 'pool unavailable', details: 'from fake-ipam' });
  });

  it('writes its debug log to CNI_LOG_FILE, never to stdout', async () => {
    const log = join(dir, 'sample.log');
    const add = await execute({ ...env('ADD'), CNI_LOG_FILE: log }, JSON.stringify({ cniVersion: '1.1.0', name: 'pods', type: 'sample', anotherAwesomeArg: 'x', prevResult: prevResultFor('1.1.0') }));
    expect(add.status).toBe(0);
    expect(JSON.parse(add.stdout).cniVersion).toBe('1.1.0');
    expect(readFileSync(log, 'utf8')).toMatch(/sample\[\d+\] ADD e2e-ctr: passing prevResult on .*"pod":"web"/);
  });
});

describe.skipIf(process.getuid?.() !== 0)('the netns check, with the plugin run inside a namespace (root)', () => {
  it("refuses CNI_NETNS when it is the namespace the plugin runs in, and accepts another", async () => {
    const hostName = `cni-sample-host-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', hostName]);
    expect(add.status, String(add.stderr)).toBe(0);
    try {
      const stdin = JSON.stringify({ cniVersion: '1.1.0', name: 'pods', type: 'sample', anotherAwesomeArg: 'x', prevResult: prevResultFor('1.1.0') });
      // As a runtime whose plugins run in a "host" namespace: `ip netns exec host sample`.
      const runIn = (cniNetns: string) =>
        spawnSync('ip', ['netns', 'exec', hostName, sampleBin], {
          input: stdin,
          encoding: 'utf8',
          env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env('ADD'), CNI_NETNS: cniNetns },
        });
      const own = runIn(`/var/run/netns/${hostName}`);
      expect(own.status).toBe(1);
      expect(JSON.parse(own.stdout)).toEqual({ code: 8, msg: "plugin's netns and netns from CNI_NETNS should not be the same" });
      const other = runIn(netns);
      expect(other.status, other.stdout).toBe(0);
    } finally {
      spawnSync('ip', ['netns', 'delete', hostName]);
    }
  });
});
