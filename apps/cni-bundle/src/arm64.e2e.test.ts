// SPDX-License-Identifier: Apache-2.0
// The linux-arm64 bundle, cross-built here by cni-bundle-build and run under Debian's
// qemu-user-static (netlink and setns go through qemu-user to this machine's kernel). When
// binfmt_misc has no aarch64 entry (these machines: /proc/sys/fs/binfmt_misc is not mounted), the
// kernel cannot start an arm64 program by itself, so the launcher cannot exec the arm64 runtime:
// the runtime is then started through qemu-aarch64-static on main.cjs with argv[0] set to the
// plugin's name, which is what the launcher does, and the launcher is checked to start and to
// report that exec failure as a CNI error.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAddressList, useTempDir, useTestNetns } from '@cni/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugins } from './plugins.ts';

const app = new URL('../', import.meta.url).pathname;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const QEMU = 'qemu-aarch64-static';
// Debian's libc6-arm64-cross: the arm64 C library and loader the target machine would have.
const SYSROOT = '/usr/aarch64-linux-gnu';
const binfmt = existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64');

function machineOf(file: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt16LE(18);
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `name` of the payload under qemu as its launcher would: the runtime on main.cjs, argv[0] the name. */
function runEmulated(payload: string, name: string, env: Record<string, string>, stdin = '', netns?: string): Promise<Outcome> {
  const argv = [QEMU, '-L', SYSROOT, '-0', name, join(payload, 'node'), join(payload, 'main.cjs')];
  const [command, ...args] = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { env: { PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('the linux-arm64 bundle', () => {
  let out: string;
  let payload: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'cni-arm64-'));
    const build = spawnSync(process.execPath, [join(app, 'node_modules/@cni/bundle/dist/cli.js'), '--arch', 'arm64', '--out', out, '--condition', '@cni/source', '--cache-dir', 'node_modules/.cache/cni-bundle'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    payload = join(out, 'bin', readlinkSync(join(out, 'bin', 'cni-bundle')).split('/')[0]!);
  }, 300_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('is arm64 throughout, and ships as its own tarball', () => {
    expect(readdirSync(out)).toContain(`cni-bundle-${(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { version: string }).version}-linux-arm64.tar.gz`);
    expect(JSON.parse(readFileSync(join(payload, 'about.json'), 'utf8'))).toMatchObject({ arch: 'arm64', plugins: Object.keys(plugins).sort() });
    const addon = join(payload, 'node_modules/@yuuang/ffi-rs-linux-arm64-gnu');
    const natives = [join(payload, 'cni-bundle'), join(payload, 'node'), ...readdirSync(join(payload, 'lib')).map((f) => join(payload, 'lib', f)), ...readdirSync(addon).filter((f) => f.endsWith('.node')).map((f) => join(addon, f))];
    expect(natives.length).toBeGreaterThanOrEqual(6);
    // EM_AARCH64.
    for (const file of natives) expect(machineOf(file), file).toBe(183);
  });

  it('answers VERSION for every plugin', { timeout: 300_000 }, () => {
    // Every plugin's file loaded into one arm64 runtime and run with a VERSION request, as an
    // in-process delegate or a resident worker runs it: one emulated start instead of 23.
    const script = join(out, 'version-all.cjs');
    writeFileSync(
      script,
      `'use strict';
const dir = process.argv[2];
(async () => {
  const results = {};
  for (const name of process.argv.slice(3)) {
    const plugin = require(require('node:path').join(dir, 'plugins', name + '.cjs'));
    let stdout = '';
    const io = { env: { CNI_COMMAND: 'VERSION' }, stdin: Buffer.from('{"cniVersion":"1.1.0"}'), stdout: { write: (t) => (stdout += t) }, stderr: { write: () => {} }, exit: () => {} };
    results[name] = { code: await plugin.run(io), stdout };
  }
  process.stdout.write(JSON.stringify(results));
})();
`,
    );
    const names = Object.keys(plugins);
    const all = spawnSync(QEMU, ['-L', SYSROOT, join(payload, 'node'), script, payload, ...names], { env: { PATH }, encoding: 'utf8' });
    expect(all.status, all.stderr).toBe(0);
    const results = JSON.parse(all.stdout) as Record<string, { code: number; stdout: string }>;
    expect(Object.keys(results)).toEqual(names);
    for (const [name, outcome] of Object.entries(results)) {
      expect(outcome.code, name).toBe(0);
      expect((JSON.parse(outcome.stdout) as { supportedVersions: string[] }).supportedVersions, name).toContain('1.1.0');
    }
  });

  it('answers VERSION through its dispatcher, argv[0] naming the plugin', async () => {
    const outcome = await runEmulated(payload, 'host-local', { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.1.0"}');
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(JSON.parse(outcome.stdout)).toMatchObject({ cniVersion: '1.1.0' });
  });

  it('starts its launcher, which runs the runtime, or says why it cannot', async () => {
    const launched = spawnSync(QEMU, ['-L', SYSROOT, '-0', 'bridge', join(payload, 'cni-bundle')], { env: { PATH, CNI_COMMAND: 'VERSION', CNI_BUNDLE_SOCKET: '' }, input: '{"cniVersion":"1.1.0"}', encoding: 'utf8' });
    if (binfmt) {
      expect(launched.status, launched.stderr).toBe(0);
    } else {
      expect(launched.status).toBe(1);
      expect(JSON.parse(launched.stdout)).toMatchObject({ code: 999, details: expect.stringContaining('Exec format error') });
    }
  });

  it('runs bridge + host-local ADD, CHECK and DEL, host-local in the bridge process', { timeout: 120_000 }, async () => {
    const netns = await useTestNetns();
    const dataDir = join(netns.dir, 'ipam');
    const conf = { cniVersion: '1.1.0', name: 'arm64net', type: 'bridge', bridge: 'a64br', isGateway: true, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.232.0.0/24' }]] } };
    const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'arm64', CNI_NETNS: netns.container.path, CNI_IFNAME: 'eth0', CNI_PATH: join(out, 'bin') });
    const call = async (command: string, stdin: unknown) => {
      const outcome = await runEmulated(payload, 'bridge', env(command), JSON.stringify(stdin), netns.host.name);
      expect(outcome.code, `${command}: ${outcome.stdout}${outcome.stderr}`).toBe(0);
      return outcome.stdout === '' ? undefined : (JSON.parse(outcome.stdout) as { ips: { address: string }[] });
    };
    const result = (await call('ADD', conf))!;
    expect(result.ips[0]!.address).toBe('10.232.0.2/24');
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.232.0.2/24']);
    const bridge = JSON.parse((await netns.execHost(['ip', '-j', 'link', 'show', 'a64br'])).stdout) as { operstate: string }[];
    expect(bridge).toHaveLength(1);
    expect(existsSync(join(dataDir, 'arm64net', '10.232.0.2'))).toBe(true);
    await call('CHECK', { ...conf, prevResult: result });
    await call('DEL', conf);
    expect(existsSync(join(dataDir, 'arm64net', '10.232.0.2'))).toBe(false);
    expect(JSON.parse((await netns.execContainer(['ip', '-j', 'link', 'show', 'type', 'veth'])).stdout || '[]')).toEqual([]);
    await netns.execHost(['ip', 'link', 'del', 'a64br']);
  });

  it('refuses to install on this x64 machine, with a clear message', async () => {
    const unpacked = await useTempDir('arm64-unpacked');
    const tarball = join(out, readdirSync(out).find((f) => f.endsWith('-linux-arm64.tar.gz'))!);
    expect(spawnSync('tar', ['-xzf', tarball, '-C', unpacked]).status).toBe(0);
    const target = join(unpacked, 'opt-cni-bin');
    mkdirSync(target);
    // The payload's own install, run emulated as a machine with qemu in binfmt_misc would run it.
    const unpackedPayload = join(unpacked, readlinkSync(join(unpacked, 'cni-bundle')).split('/')[0]!);
    const install = spawnSync(QEMU, ['-L', SYSROOT, '-0', 'cni-bundle', join(unpackedPayload, 'node'), join(unpackedPayload, 'main.cjs'), 'install', '--dir', target], { env: { PATH }, encoding: 'utf8' });
    expect(install.status).toBe(1);
    expect(install.stderr).toBe('cni-bundle: this bundle is built for linux-arm64 and this machine is linux-x64: install the linux-x64 tarball\n');
    expect(readdirSync(target)).toEqual([]);
  });
});
