// SPDX-License-Identifier: Apache-2.0
// The built cnitool driving Debian's reference plugins (/usr/lib/cni) as a person at a shell
// would, inside namespaces the test made: cnitool itself runs in the test's host namespace.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAddressList, readLink, useTestNetns, type TestNetns } from '@cni/testkit';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const appDir = new URL('..', import.meta.url).pathname;
const cnitool = join(appDir, 'dist', 'cnitool.mjs');
const REFERENCE = '/usr/lib/cni';
const isRoot = process.getuid?.() === 0;

beforeAll(() => {
  // The e2e tier runs built executables; build this one if the tier runner has not.
  if (!existsSync(cnitool)) execFileSync('npx', ['tsup'], { cwd: appDir, stdio: 'ignore' });
}, 60_000);

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the built cnitool inside the test's host namespace with a runtime-like environment. */
function run(netns: TestNetns | null, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const argv = netns ? ['ip', 'netns', 'exec', netns.host.name, process.execPath, cnitool, ...args] : [process.execPath, cnitool, ...args];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function setup(netns: TestNetns, lists: Record<string, object>): Record<string, string> {
  const netconf = join(netns.dir, 'net.d');
  mkdirSync(netconf, { recursive: true });
  for (const [file, list] of Object.entries(lists)) writeFileSync(join(netconf, file), JSON.stringify(list));
  return { NETCONFPATH: netconf, CNI_PATH: REFERENCE, CNI_CACHE_DIR: join(netns.dir, 'cache') };
}

const podnet = (netns: TestNetns) => ({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cnitool0',
      isGateway: true,
      ipam: { type: 'host-local', dataDir: join(netns.dir, 'ipam'), ranges: [[{ subnet: '10.77.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
    },
    // dataDir: tuning keeps its backups in the test's folder, not the machine's /run/cni/tuning.
    { type: 'tuning', capabilities: { mac: true }, dataDir: join(netns.dir, 'tuning') },
  ],
});

describe('cnitool --help', () => {
  it.each([[[]], [['--help']], [['add', '--help']], [['gc', '-h']], [['netns', '--help']], [['status', 'help']]])('%j', async (args) => {
    const result = await run(null, args);
    expect(result.status).toBe(args.length === 0 ? 2 : 0);
    expect(result.stdout + result.stderr).toMatch(/^Usage|^cnitool: run CNI/m);
  });

  it('refuses an unknown command or flag with status 2', async () => {
    expect((await run(null, ['frobnicate'])).status).toBe(2);
    expect((await run(null, ['add', '--frob', 'n', 'x'])).status).toBe(2);
    expect((await run(null, ['add', 'n'])).stderr).toContain('network name and namespace are required');
  });
});

describe.skipIf(!isRoot || !existsSync(join(REFERENCE, 'bridge')))('cnitool with the reference plugins', () => {
  it('adds, checks and deletes a bridge attachment, with a readable summary and --json', async () => {
    const netns = await useTestNetns();
    const env = { ...setup(netns, { '10-podnet.conflist': podnet(netns) }), CAP_ARGS: '{"mac":"0a:58:0a:4d:00:07"}' };

    const added = await run(netns, ['add', 'podnet', netns.container.path], env);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const [address] = await readAddressList(netns.container, 'eth0', 4);
    expect(address).toMatch(/^10\.77\.0\.\d+\/24$/);
    expect(added.stdout).toContain(`podnet: eth0 in ${netns.container.path}`);
    expect(added.stdout).toMatch(new RegExp(`addresses:\\n  ${address!.replaceAll('.', '\\.')}\\s+gateway 10\\.77\\.0\\.1\\s+on eth0`));
    // Debian's bridge leaves the route's gateway to the plugin's choice (no gw).
    expect(added.stdout).toMatch(/routes:\n  0\.0\.0\.0\/0\s+via default gateway/);
    expect((await readLink(netns.container, 'eth0'))?.address).toBe('0a:58:0a:4d:00:07');

    expect(await run(netns, ['check', 'podnet', netns.container.path], env)).toMatchObject({ status: 0, stdout: '' });
    expect(await run(netns, ['del', 'podnet', netns.container.path], env)).toMatchObject({ status: 0 });
    expect(await readLink(netns.container, 'eth0')).toBeUndefined();

    // --json prints the result as upstream's cnitool does (4-space indented JSON), -i names the interface.
    const json = await run(netns, ['add', '--json', '-i', 'net1', 'podnet', netns.container.path], env);
    const result = JSON.parse(json.stdout) as { cniVersion: string; interfaces: { name: string }[] };
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.interfaces.map((i) => i.name)).toContain('net1');
    expect(json.stdout).toMatch(/^{\n {4}"cniVersion"/);

    // gc as upstream's cnitool: every cached attachment of the network goes.
    expect((await run(netns, ['gc', 'podnet'], env)).status).toBe(0);
    expect(await readLink(netns.container, 'net1')).toBeUndefined();
    expect(readdirSync(join(netns.dir, 'cache', 'results'))).toEqual([]);
    await netns.execHost(['ip', 'link', 'del', 'cnitool0']);
  });

  it('gc --keep deletes only the other attachments', async () => {
    const netns = await useTestNetns();
    const env = setup(netns, { '10-podnet.conflist': podnet(netns) });
    await run(netns, ['add', '-i', 'eth0', 'podnet', netns.container.path], env);
    await run(netns, ['add', '-i', 'eth1', 'podnet', netns.container.path], env);
    const id = readdirSync(join(netns.dir, 'cache', 'results'))[0]!.split('-').slice(1, 3).join('-');
    expect((await run(netns, ['gc', '--keep', `${id}/eth0`, 'podnet'], env)).status).toBe(0);
    expect(await readLink(netns.container, 'eth0')).toBeDefined();
    expect(await readLink(netns.container, 'eth1')).toBeUndefined();
    await run(netns, ['del', 'podnet', netns.container.path], env);
    await netns.execHost(['ip', 'link', 'del', 'cnitool0']);
  });

  it('prints a plugin error as one line with its CNI code, exit status 1', async () => {
    const netns = await useTestNetns();
    const env = setup(netns, {
      '10-bad.conflist': { cniVersion: '1.0.0', name: 'bad', plugins: [{ type: 'bridge', bridge: 'cnitool1', ipam: { type: 'host-local' } }] },
    });
    const failed = await run(netns, ['add', 'bad', netns.container.path], env);
    expect(failed.status).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toMatch(/^cnitool: plugin type="bridge" failed \(add\): .* \(CNI code \d+/);
    await netns.execHost(['ip', 'link', 'del', 'cnitool1']).catch(() => undefined);
  });

  it('status says not ready with exit status 4 (CNI code 50)', async () => {
    const netns = await useTestNetns({ container: false });
    const bin = join(netns.dir, 'bin');
    mkdirSync(bin);
    // A stand-in plugin: Debian's build predates STATUS.
    writeFileSync(join(bin, 'busy'), '#!/bin/sh\necho \'{"code":50,"msg":"no leases left"}\'\nexit 1\n');
    chmodSync(join(bin, 'busy'), 0o755);
    const env = {
      ...setup(netns, { '10-s.conflist': { cniVersion: '1.1.0', name: 's', plugins: [{ type: 'busy' }] } }),
      CNI_PATH: bin,
    };
    const status = await run(netns, ['status', 's'], env);
    expect(status.status).toBe(4);
    expect(status.stderr).toBe('cnitool: no leases left (CNI code 50: plugin not available)\n');
  });

  it('adds, lists and deletes named namespaces', async () => {
    const name = `cnitool-e2e-${process.pid}`;
    onTestFinished(() => {
      if (existsSync(`/var/run/netns/${name}`)) execFileSync('ip', ['netns', 'del', name]);
    });
    expect(await run(null, ['netns', 'add', name])).toMatchObject({ status: 0, stdout: `/var/run/netns/${name}\n` });
    expect((await run(null, ['netns', 'list'])).stdout.split('\n')).toContain(name);
    const lo = JSON.parse(execFileSync('ip', ['-n', name, '-j', 'link', 'show', 'lo'], { encoding: 'utf8' })) as { flags: string[] }[];
    expect(lo[0]?.flags).toContain('UP');
    expect((await run(null, ['netns', 'del', name])).status).toBe(0);
    expect(existsSync(`/var/run/netns/${name}`)).toBe(false);
    expect((await run(null, ['netns', 'add', 'bad/name'])).status).toBe(2);
  });
});
