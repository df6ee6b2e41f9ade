// SPDX-License-Identifier: Apache-2.0
// The built bundle as a host without Node sees it: the executables run in a root holding only the
// bundle's folder and the C library, ignore NODE_* variables, delegate in-process to our own
// plugins (and agree with the exec path), install atomically with links, and ship as a tarball.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execPlugin, readAddressList, run, useTempDir, useTestNetns, type PluginRunResult } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { plugins } from './plugins.ts';

const binDir = process.env['CNI_BUNDLE_BIN'] ?? new URL('../dist/bin/', import.meta.url).pathname;
const distDir = new URL('../dist/', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The payload folder dist/bin's links point into. */
function payloadName(dir = binDir): string {
  return readlinkSync(join(dir, 'cni-bundle')).split('/')[0]!;
}

function bridgeConf(dataDir: string, subnet = '10.231.0.0/24', ipam: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.1.0',
    name: 'bundlenet',
    type: 'bridge',
    bridge: 'bnd0',
    isGateway: true,
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet }]], ...ipam },
  };
}

/** The parts of an ADD result that do not depend on random MACs and names. */
function stable(result: unknown) {
  const r = result as { ips?: unknown[]; routes?: unknown[]; dns?: unknown; interfaces?: { name: string; sandbox?: string }[] };
  return { ips: r.ips, routes: r.routes, dns: r.dns, interfaces: r.interfaces?.map((i) => ({ sandbox: i.sandbox !== undefined, name: i.name.startsWith('veth') ? 'veth' : i.name })) };
}

/** Run `argv` under strace and return the programs it executed (execve), and its outcome. */
async function traced(argv: string[], options: { env: Record<string, string>; input: string; hostNetns: string }, traceFile: string) {
  const out = await run(['ip', 'netns', 'exec', options.hostNetns, 'strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', traceFile, ...argv], {
    env: options.env,
    input: options.input,
    allowFailure: true,
  });
  const execs = readFileSync(traceFile, 'utf8')
    .split('\n')
    .map((line) => /execve\("([^"]+)"/.exec(line)?.[1])
    .filter((file): file is string => file !== undefined);
  return { ...out, execs };
}

describe('the bundle\'s executables', () => {
  it('name the pinned Node runtime in their about text', () => {
    const about = spawnSync(join(binDir, 'bridge'), [], { env: { PATH }, encoding: 'utf8' });
    const pinned = JSON.parse(readFileSync(new URL('../../../packages/bundle/runtime.json', import.meta.url), 'utf8')) as { version: string };
    expect(about.stderr.split('\n')[0]).toBe(`CNI bridge plugin v${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version} (node v${pinned.version})`);
  });

  it('ignore every NODE_* variable of the environment they are given', async () => {
    const dir = await useTempDir('nodeenv');
    const marker = join(dir, 'injected');
    writeFileSync(join(dir, 'inject.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'loaded')\n`);
    const env = {
      PATH,
      CNI_COMMAND: 'VERSION',
      NODE_OPTIONS: `--require ${join(dir, 'inject.cjs')}`,
      NODE_DEBUG: 'module,fs,net',
      NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem'),
      NODE_PATH: dir,
      NODE_V8_COVERAGE: join(dir, 'coverage'),
      NODE_PENDING_DEPRECATION: '1',
    };
    const version = spawnSync(join(binDir, 'host-local'), [], { env, encoding: 'utf8' });
    expect(version.status, version.stdout + version.stderr).toBe(0);
    expect(JSON.parse(version.stdout).cniVersion).toBe('1.1.0');
    expect(version.stderr).toBe('');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'coverage'))).toBe(false);
  });

  it('load from a V8 code cache their runtime accepts', () => {
    const payload = join(binDir, payloadName());
    // The check runs on the payload's runtime with no flags, as the launcher starts it.
    const check = `
      const { readFileSync } = require('node:fs');
      const { Script, constants } = require('node:vm');
      const rejected = [];
      for (const file of process.argv.slice(1)) {
        const source = '(function (exports, require, module, __filename, __dirname) { ' + readFileSync(file, 'utf8') + '\\n})';
        const script = new Script(source, { filename: file, cachedData: readFileSync(file + '.v8cache'), importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
        if (script.cachedDataRejected !== false) rejected.push(file);
      }
      process.stdout.write(JSON.stringify(rejected));`;
    const files = [...Object.keys(plugins).map((name) => join(payload, 'plugins', `${name}.cjs`)), join(payload, 'tool.cjs')];
    const out = spawnSync(join(payload, 'node'), ['-e', check, ...files], { env: { PATH }, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([]);
  });

  it('are links to one executable beside one runtime', () => {
    const payload = payloadName();
    for (const name of [...Object.keys(plugins), 'cni-bundle']) {
      expect(lstatSync(join(binDir, name)).isSymbolicLink(), name).toBe(true);
      expect(readlinkSync(join(binDir, name))).toBe(`${payload}/cni-bundle`);
    }
    const files = readdirSync(join(binDir, payload));
    expect(files).toEqual(expect.arrayContaining(['cni-bundle', 'node', 'main.cjs', 'plugins', 'lib', 'about.json']));
    expect(readdirSync(join(binDir, payload, 'lib')).sort()).toEqual(['libgcc_s.so.1', 'libnl-3.so.200', 'libstdc++.so.6']);
  });
});

describe.skipIf(!isRoot)('a root with only the bundle and the C library', () => {
  it('runs bridge + host-local ADD, CHECK and DEL (no Node, no node_modules, no libnl on that "host")', async () => {
    const netns = await useTestNetns();
    const root = await useTempDir('chroot');
    // The C library, and nothing else of the machine's software.
    for (const lib of ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1']) {
      mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
      copyFileSync(realpathSync(`/lib/x86_64-linux-gnu/${lib}`), join(root, 'lib/x86_64-linux-gnu', lib));
    }
    mkdirSync(join(root, 'lib64'), { recursive: true });
    copyFileSync(realpathSync('/lib64/ld-linux-x86-64.so.2'), join(root, 'lib64/ld-linux-x86-64.so.2'));
    // The bundle's folder as an installer leaves it: the links and the current payload.
    const opt = join(root, 'opt/cni/bin');
    mkdirSync(opt, { recursive: true });
    const payload = payloadName();
    cpSync(join(binDir, payload), join(opt, payload), { recursive: true, verbatimSymlinks: true });
    for (const name of [...Object.keys(plugins), 'cni-bundle']) cpSync(join(binDir, name), join(opt, name), { verbatimSymlinks: true });
    for (const dir of ['proc', 'run/netns', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
    // No Node and no libnl anywhere in the root but inside the payload.
    const everything = readdirSync(root, { recursive: true }).map(String);
    expect(everything.filter((f) => /(^|\/)node$/.test(f))).toEqual([`opt/cni/bin/${payload}/node`]);
    expect(everything.filter((f) => f.endsWith('.so.200'))).toEqual([`opt/cni/bin/${payload}/lib/libnl-3.so.200`]);

    // A fixed script: mount /proc and the netns folder into the root, then run the plugin there.
    const enter = 'set -e; root="$1"; shift; mount --make-rprivate /; mount -t proc proc "$root/proc"; mount --rbind /run/netns "$root/run/netns"; exec chroot "$root" "$@"';
    const inRoot = async (command: string, conf: unknown) => {
      const out = await run(['ip', 'netns', 'exec', netns.host.name, 'unshare', '--mount', 'sh', '-c', enter, 'enter', root, '/opt/cni/bin/bridge'], {
        env: {
          // The system's folders for unshare, mount and chroot; inside the root only /opt/cni/bin exists.
          PATH: `/opt/cni/bin:${PATH}`,
          CNI_COMMAND: command,
          CNI_CONTAINERID: 'chrooted',
          CNI_NETNS: `/run/netns/${netns.container.name}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/opt/cni/bin',
        },
        input: JSON.stringify(conf),
        allowFailure: true,
      });
      expect(out.exitCode, `${command}: ${out.stdout}${out.stderr}`).toBe(0);
      return out.stdout === '' ? undefined : JSON.parse(out.stdout);
    };
    const conf = bridgeConf('/tmp/ipam');
    const result = await inRoot('ADD', conf);
    expect(result.ips[0].address).toBe('10.231.0.2/24');
    expect(await readAddressList(netns.container, 'eth0', 4)).toEqual(['10.231.0.2/24']);
    expect(existsSync(join(root, 'tmp/ipam/bundlenet/10.231.0.2'))).toBe(true);
    await inRoot('CHECK', { ...conf, prevResult: result });
    await inRoot('DEL', conf);
    expect(existsSync(join(root, 'tmp/ipam/bundlenet/10.231.0.2'))).toBe(false);
  });
});

describe.skipIf(!isRoot)('in-process delegation', () => {
  it('runs host-local in the bridge process when CNI_PATH finds ours, and execs it otherwise, with the same outcome', async () => {
    const netns = await useTestNetns();
    const dir = await useTempDir('delegation');
    // Not our launcher: a script that runs it. The same plugin code, reached by exec.
    const wrapped = join(dir, 'wrapped');
    mkdirSync(wrapped);
    writeFileSync(join(wrapped, 'host-local'), `#!/bin/sh\nexec ${JSON.stringify(join(binDir, 'host-local'))} "$@"\n`, { mode: 0o755 });

    const attempt = async (cniPath: string, label: string, conf: unknown, command = 'ADD') => {
      const env = { PATH, CNI_COMMAND: command, CNI_CONTAINERID: `deleg-${label}`, CNI_NETNS: netns.container.path, CNI_IFNAME: 'eth0', CNI_PATH: cniPath };
      return traced([join(binDir, 'bridge')], { env, input: JSON.stringify(conf), hostNetns: netns.host.name }, join(dir, `${label}-${command}.trace`));
    };
    const parse = (out: { exitCode: number | null; stdout: string }) => JSON.parse(out.stdout) as unknown;

    const inProcess = await attempt(binDir, 'own', bridgeConf(join(dir, 'ipam-own')));
    expect(inProcess.exitCode, inProcess.stdout).toBe(0);
    // One program started: the launcher, which becomes the runtime. No second process for host-local.
    expect(inProcess.execs.filter((file) => file.endsWith('/host-local'))).toEqual([]);
    expect(inProcess.execs.filter((file) => file.endsWith('/node'))).toHaveLength(1);
    const ownDel = await attempt(binDir, 'own', bridgeConf(join(dir, 'ipam-own')), 'DEL');
    expect(ownDel.exitCode, ownDel.stdout).toBe(0);

    const execd = await attempt(wrapped, 'exec', bridgeConf(join(dir, 'ipam-exec')));
    expect(execd.exitCode, execd.stdout).toBe(0);
    expect(execd.execs.filter((file) => file.endsWith('/host-local'))).toEqual([join(wrapped, 'host-local'), join(binDir, 'host-local')]);
    expect(stable(parse(execd))).toEqual(stable(parse(inProcess)));
    const execDel = await attempt(wrapped, 'exec', bridgeConf(join(dir, 'ipam-exec')), 'DEL');
    expect(execDel.exitCode, execDel.stdout).toBe(0);

    // A delegate's failure reaches the runtime the same way on both paths.
    const bad = (label: string) => bridgeConf(join(dir, `ipam-bad-${label}`), '10.231.0.0/33');
    const ownBad = await attempt(binDir, 'own', bad('own'));
    const execBad = await attempt(wrapped, 'exec', bad('exec'));
    expect(ownBad.exitCode).toBe(1);
    expect(execBad.exitCode).toBe(1);
    expect(parse(ownBad)).toEqual(parse(execBad));
    expect((parse(ownBad) as { msg: string }).msg).toContain('10.231.0.0/33');
  });
});

describe('cni-bundle install', () => {
  const installer = join(binDir, 'cni-bundle');

  /** A copy of the payload under another identity: what the next release would install. */
  async function nextRelease(id: string): Promise<string> {
    const dir = await useTempDir(`release-${id}`);
    cpSync(join(binDir, payloadName()), join(dir, 'payload'), { recursive: true, verbatimSymlinks: true });
    const aboutFile = join(dir, 'payload', 'about.json');
    writeFileSync(aboutFile, JSON.stringify({ ...JSON.parse(readFileSync(aboutFile, 'utf8')), id }));
    return join(dir, 'payload', 'cni-bundle');
  }

  const install = (launcher: string, dir: string) => spawnSync(launcher, ['install', '--dir', dir], { argv0: 'cni-bundle', env: { PATH }, encoding: 'utf8' });

  it('replaces what is there with links into one payload, and is idempotent', async () => {
    const dir = await useTempDir('opt-cni-bin');
    // A runtime's folder with the Go reference's bridge, and a plugin of someone else.
    copyFileSync('/usr/lib/cni/bridge', join(dir, 'bridge'));
    writeFileSync(join(dir, 'vendor-plugin'), '#!/bin/sh\n', { mode: 0o755 });
    const first = install(installer, dir);
    expect(first.status, first.stderr).toBe(0);
    expect(lstatSync(join(dir, 'bridge')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, 'vendor-plugin'))).toBe(true);
    const version = spawnSync(join(dir, 'bridge'), [], { env: { PATH, CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
    expect(version.status).toBe(0);
    // The folder costs one payload, not one runtime per plugin.
    const payloads = readdirSync(dir).filter((f) => f.startsWith('.cni-bundle-'));
    expect(payloads).toEqual([payloadName()]);
    expect(readdirSync(join(dir, payloads[0]!)).filter((f) => f === 'node')).toHaveLength(1);
    const again = install(installer, dir);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('payload already present');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('never lets a running runtime see a missing or half-written plugin while releases replace each other', async () => {
    const dir = await useTempDir('opt-live');
    expect(install(installer, dir).status).toBe(0);
    const releases = [await nextRelease('0.0.0-next1'), await nextRelease('0.0.0-next2'), installer];
    // A runtime calling host-local VERSION in a loop while three installs replace the payload.
    let stop = false;
    const failures: string[] = [];
    let runs = 0;
    const runtime = (async () => {
      while (!stop) {
        const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
          const child = spawn(join(dir, 'host-local'), [], { env: { PATH, CNI_COMMAND: 'VERSION' } });
          let text = '';
          child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.on('error', (error) => resolve({ code: -1, text: error.message }));
          child.on('close', (code) => resolve({ code, text }));
        });
        runs++;
        if (out.code !== 0) failures.push(out.text);
      }
    })();
    for (const release of releases) {
      const out = install(release, dir);
      expect(out.status, out.stderr).toBe(0);
    }
    stop = true;
    await runtime;
    expect(failures).toEqual([]);
    expect(runs).toBeGreaterThan(0);
    // The current payload and the one it replaced are kept; older ones go.
    expect(readdirSync(dir).filter((f) => f.startsWith('.cni-bundle-')).sort()).toEqual([`.cni-bundle-0.0.0-next2`, payloadName()].sort());
  });

  it('ships as a tarball of the folder that runs where it is unpacked', async () => {
    const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
    const tarball = join(distDir, `cni-bundle-${version}-linux-x64.tar.gz`);
    expect(statSync(tarball).size).toBeGreaterThan(1_000_000);
    const dir = await useTempDir('unpacked');
    await run(['tar', '-xzf', tarball, '-C', dir]);
    const out: PluginRunResult = await execPlugin(join(dir, 'ptp'), { command: 'VERSION' });
    expect(out.exitCode).toBe(0);
    const target = await useTempDir('from-tarball');
    const installed = install(join(dir, 'cni-bundle'), target);
    expect(installed.status, installed.stderr).toBe(0);
    expect(lstatSync(join(target, 'ptp')).isSymbolicLink()).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
