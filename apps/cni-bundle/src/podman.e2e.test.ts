// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePrograms, PodmanSandbox, runCommand } from './podman/sandbox.ts';

// A real runtime on our executables: Debian's podman 4.3 with its CNI backend, runc and the
// cgroupfs manager, confined by PodmanSandbox to namespaces and folders of its own
// (docs/podman.md says how to run podman on the bundle outside a test).

const binDir = resolve(process.env['CNI_BUNDLE_BIN'] ?? new URL('../dist/bin/', import.meta.url).pathname);
const CHAIN = ['bridge', 'host-local', 'portmap', 'firewall', 'tuning'] as const;
const IMAGE = 'localhost/cni-e2e-busybox:1';
const HOST_PORT = 8080;
const MACHINE_PATHS = ['/run/cni', '/var/lib/cni', '/run/runc', '/dev/shm/libpod_lock'];

const canRun = process.getuid?.() === 0 && havePrograms('podman', 'runc', 'conmon', 'nsenter', 'unshare', 'setpriv');

interface LogLine {
  plugin: string;
  pid: number;
  command: string;
  containerId: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** The bundle's debug log: `<time> <plugin>[<pid>] <command> <containerId>: <message> <fields>`. */
function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = /^\S+ ([\w-]+)\[(\d+)\] (\w+) (\S+): (\w+)(?: (.*))?$/.exec(line);
      if (!match) return [];
      const [, plugin, pid, command, containerId, message, json] = match;
      // Lines other than request, result and error carry free text after the message.
      const fields = json?.startsWith('{') ? (JSON.parse(json) as Record<string, unknown>) : undefined;
      return [{ plugin: plugin!, pid: Number(pid), command: command!, containerId: containerId!, message: message!, fields }];
    });
}

function ipJson<T>(args: string[]): T {
  const result = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`failed to run "ip -j ${args.join(' ')}": ${result.stderr}`);
  return JSON.parse(result.stdout || '[]') as T;
}

function natRules(ns: string): string {
  const result = spawnSync('ip', ['netns', 'exec', ns, 'iptables-save', '-t', 'nat'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`failed to read the nat table of netns "${ns}": ${result.stderr}`);
  return result.stdout;
}

// Node's fetch in a child started inside the namespace: Debian's static busybox wget segfaults in
// its resolver (static glibc and NSS), even for an address.
const FETCH = 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); process.stdout.write(await r.text()); })';

/** Fetches a URL from inside a namespace, retrying while the server starts. */
async function fetchIn(ns: string, url: string): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const result = await runCommand('ip', ['netns', 'exec', ns, process.execPath, '-e', FETCH, url], { env: { PATH: process.env['PATH'] } });
    if (result.status === 0) return result.stdout;
    last = result.stderr;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`failed to fetch "${url}" in netns "${ns}": ${last}`);
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

describe.skipIf(!canRun)('podman on the bundle, CNI backend, default network', () => {
  let sandbox: PodmanSandbox;
  let containerId = '';
  let address = '';
  const preexisting = new Set(MACHINE_PATHS.filter((path) => existsSync(path)));
  const body = `served by busybox httpd on the bundle's plugins, run ${process.pid}\n`;

  beforeAll(async () => {
    for (const name of CHAIN) {
      if (!existsSync(join(binDir, name))) throw new Error(`"${join(binDir, name)}" is missing: run \`pnpm --filter @cni/cni-bundle build\` first`);
    }
    sandbox = await PodmanSandbox.start({ pluginDir: binDir, tag: String(process.pid) });
    await sandbox.importBusybox(IMAGE, body);
  }, 60_000);

  afterAll(async () => {
    await sandbox?.close();
  }, 60_000);

  it('runs a container whose network our chain made, and serves its published port', async () => {
    containerId = (
      await sandbox.mustPodman([
        'run',
        '--detach',
        '--name',
        'web',
        '--cgroup-parent',
        sandbox.cgroupParent,
        '--publish',
        `${HOST_PORT}:80`,
        IMAGE,
        '/bin/busybox',
        'httpd',
        '-f',
        '-p',
        '80',
        '-h',
        '/www',
      ])
    ).trim();
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    const [inspect] = JSON.parse(await sandbox.mustPodman(['inspect', 'web'])) as {
      State: { Pid: number; Running: boolean };
      NetworkSettings: { Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string }> };
    }[];
    expect(inspect!.State.Running).toBe(true);
    const network = inspect!.NetworkSettings.Networks['podman']!;
    address = network.IPAddress;
    expect(network).toMatchObject({ IPPrefixLen: 16, Gateway: '10.88.0.1' });

    // The address is on the container's eth0 (iproute2 as the oracle) and is host-local's lease.
    const pid = String(inspect!.State.Pid);
    const links = JSON.parse((await runCommand('nsenter', ['-t', pid, '-n', 'ip', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as {
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    expect(links[0]!.addr_info).toContainEqual(expect.objectContaining({ family: 'inet', local: address, prefixlen: 16 }));
    const lease = join(sandbox.ipamDir, 'podman', address);
    expect(existsSync(lease), `no lease file "${lease}"`).toBe(true);
    expect(readFileSync(lease, 'utf8').split(/\r?\n/)[0]).toBe(containerId);

    // The bridge and its one port are in the sandbox's host namespace; portmap's DNAT names the container.
    const ports = ipJson<{ ifname: string }[]>(['-n', sandbox.hostNs, 'link', 'show', 'master', 'cni-podman0']);
    expect(ports).toHaveLength(1);
    expect(natRules(sandbox.hostNs)).toMatch(new RegExp(`--dport ${HOST_PORT} .*--to-destination ${address.replaceAll('.', '\\.')}:80`));

    // The published port, from a client namespace (PREROUTING) and from the host namespace (OUTPUT).
    expect(await fetchIn(sandbox.clientNs, `http://${PodmanSandbox.HOST_ADDRESS}:${HOST_PORT}/index.html`)).toBe(body);
    expect(await fetchIn(sandbox.hostNs, `http://127.0.0.1:${HOST_PORT}/index.html`)).toBe(body);

    // Every plugin of the chain was ours: each logged its ADD, ran from CNI_PATH = dist/bin alone,
    // and answered with a result; none logged an error.
    const adds = readLog(sandbox.logFile).filter((line) => line.command === 'ADD' && line.containerId === containerId);
    for (const plugin of CHAIN) {
      const request = adds.find((line) => line.plugin === plugin && line.message === 'request');
      expect(request, `no ADD of ${plugin} in "${sandbox.logFile}"`).toBeDefined();
      expect((request!.fields!['env'] as { path: string }).path).toBe(binDir);
      expect(adds.some((line) => line.plugin === plugin && line.message === 'result')).toBe(true);
    }
    expect(adds.filter((line) => line.message === 'error')).toEqual([]);
    // Podman hands conmon, hence its exit command (`podman container cleanup`), CONTAINERS_CONF: the
    // exit command's flags carry the network config dir and backend but not cni_plugin_dirs, so
    // without it a container exiting by itself would be torn down by the plugins of /usr/lib/cni.
    const conmon = sandbox.sandboxPids().find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/usr/bin/conmon'));
    expect(conmon).toBeDefined();
    expect(readFileSync(`/proc/${conmon}/environ`, 'utf8').split('\0')).toContain(`CONTAINERS_CONF=${join(sandbox.dir, 'containers.conf')}`);
  });

  it('podman rm -f runs DEL through the chain and leaves nothing of the container', async () => {
    expect(containerId).not.toBe('');
    await sandbox.mustPodman(['rm', '--force', '--time', '0', 'web']);
    expect(JSON.parse(await sandbox.mustPodman(['ps', '--all', '--format', 'json']))).toEqual([]);
    await waitFor('conmon and podman cleanup runs to end', () => sandbox.cgroupPids().length === 0 && sandbox.sandboxPids().length === 0);

    const dels = readLog(sandbox.logFile).filter((line) => line.command === 'DEL' && line.containerId === containerId);
    for (const plugin of CHAIN) {
      const request = dels.find((line) => line.plugin === plugin && line.message === 'request');
      expect(request, `no DEL of ${plugin} in "${sandbox.logFile}"`).toBeDefined();
      expect((request!.fields!['env'] as { path: string }).path).toBe(binDir);
    }
    expect(dels.filter((line) => line.message === 'error')).toEqual([]);

    expect(ipJson<unknown[]>(['-n', sandbox.hostNs, 'link', 'show', 'master', 'cni-podman0'])).toEqual([]);
    expect(ipJson<{ ifname: string }[]>(['-n', sandbox.hostNs, 'link', 'show', 'type', 'veth']).map((link) => link.ifname)).toEqual(['client0']);
    expect(natRules(sandbox.hostNs)).not.toContain(address);
    expect(existsSync(join(sandbox.ipamDir, 'podman', address))).toBe(false);
    expect(!existsSync(sandbox.tuningDir) || readdirSync(sandbox.tuningDir).length === 0).toBe(true);
    // What podman and its helpers keep where the configuration cannot move it, in the sandbox's
    // stand-ins for /run and /var/lib: the container's netns file, runc's state, libcni's cache.
    expect(readdirSync(join(sandbox.dir, 'run', 'netns'))).toEqual([]);
    expect(readdirSync(join(sandbox.dir, 'run', 'runc'))).toEqual([]);
    expect(readdirSync(join(sandbox.dir, 'var-lib', 'cni', 'results'))).toEqual([]);
  });

  it("a container that exits by itself is torn down by conmon's exit command, through our chain too", async () => {
    const id = (await sandbox.mustPodman(['run', '--detach', '--name', 'once', '--cgroup-parent', sandbox.cgroupParent, IMAGE, '/bin/busybox', 'true'])).trim();
    const dels = (): LogLine[] => readLog(sandbox.logFile).filter((line) => line.command === 'DEL' && line.containerId === id);
    // `podman container cleanup`, started by conmon when the container exits, runs DEL; podman rm
    // below must then find nothing left to do.
    await waitFor('DEL of every plugin of the chain', () => CHAIN.every((plugin) => dels().some((line) => line.plugin === plugin && line.message === 'request')));
    for (const line of dels().filter((l) => l.message === 'request')) expect((line.fields!['env'] as { path: string }).path).toBe(binDir);
    await waitFor('conmon and podman cleanup runs to end', () => sandbox.cgroupPids().length === 0 && sandbox.sandboxPids().length === 0);
    expect(readdirSync(join(sandbox.dir, 'run', 'netns'))).toEqual([]);
    expect(readdirSync(join(sandbox.ipamDir, 'podman')).filter((name) => /^\d/.test(name))).toEqual([]);
    await sandbox.mustPodman(['rm', 'once']);
    expect(readdirSync(join(sandbox.dir, 'var-lib', 'cni', 'results'))).toEqual([]);
  });

  it('closing the sandbox leaves nothing on the machine', async () => {
    const { dir, hostNs, clientNs } = sandbox;
    await sandbox.close();
    const namespaces = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(namespaces).not.toContain(hostNs);
    expect(namespaces).not.toContain(clientNs);
    expect(existsSync(dir)).toBe(false);
    expect(sandbox.cgroupFolders()).toEqual([]);
    expect(MACHINE_PATHS.filter((path) => !preexisting.has(path) && existsSync(path))).toEqual([]);
  });
});
