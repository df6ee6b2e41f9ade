// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultV100 } from '@cni/spec';
import { execPlugin } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Lab, sh, useLab } from './lab.fixture.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const DHCP = join(BUNDLE, 'dhcp');

/** `dhcp daemon` from the bundle, stopped with SIGTERM when the test finishes. */
async function startBuiltDaemon(lab: Lab, extra: readonly string[] = []): Promise<{ stop(): Promise<number | null>; output(): string }> {
  const pidFile = join(lab.dir, 'dhcp.pid');
  let output = '';
  const child = spawn(DHCP, ['daemon', '-socketpath', lab.socketPath, '-statedir', lab.stateDir, '-pidfile', pidFile, '-timeout', '3s', '-resendtimeout', '20s', ...extra], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  onTestFinished(async () => {
    await stop();
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(lab.socketPath)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`dhcp daemon did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(child.pid));
  return { stop, output: () => output };
}

describe.skipIf(process.getuid?.() !== 0)('dist/bin/dhcp and `dhcp daemon`', () => {
  it('macvlan + dhcp: ADD leases and configures the pod, CHECK passes, DEL releases; SIGTERM removes socket and pid file', async () => {
    const lab = await useLab(21);
    const daemon = await startBuiltDaemon(lab);
    // The runtime's host namespace, its uplink on the server's bridge, and the pod's namespace.
    const host = `${lab.server.slice(0, -2)}-h`;
    const pod = `${lab.server.slice(0, -2)}-c`;
    onTestFinished(async () => {
      await sh(['ip', 'netns', 'del', pod]).catch(() => undefined);
      await sh(['ip', 'netns', 'del', host]).catch(() => undefined);
    });
    await sh(['ip', 'netns', 'add', host]);
    await sh(['ip', 'netns', 'add', pod]);
    await sh(['ip', '-n', lab.server, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', host]);
    await sh(['ip', '-n', lab.server, 'link', 'set', 'up0', 'master', 'br0', 'up']);
    await sh(['ip', '-n', host, 'link', 'set', 'uplink0', 'up']);

    const conf = {
      cniVersion: '1.1.0',
      name: 'lan',
      type: 'macvlan',
      master: 'uplink0',
      mode: 'bridge',
      ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath, provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] },
    };
    const common = { cniPath: BUNDLE, netns: `/var/run/netns/${pod}`, hostNetns: { name: host, path: `/var/run/netns/${host}` }, containerId: 'e2e-ctr', args: 'IgnoreUnknown=1;K8S_POD_NAME=web-1' };
    const added = await execPlugin(join(BUNDLE, 'macvlan'), { ...common, command: 'ADD', conf });
    expect(added.error, added.stdout + added.stderr).toBeUndefined();
    const result = added.result as ResultV100;
    const address = result.ips?.[0]?.address ?? '';
    expect(address).toMatch(/^10\.77\.21\.\d+\/24$/);
    const [link] = JSON.parse(await sh(['ip', '-n', pod, '-j', '-4', 'addr', 'show', 'dev', 'eth0'])) as { addr_info: { local: string; prefixlen: number }[] }[];
    expect(link?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([address]);
    const routes = JSON.parse(await sh(['ip', '-n', pod, '-j', 'route', 'show', 'default'])) as { gateway?: string }[];
    expect(routes[0]?.gateway).toBe('10.77.21.1');
    // The host name went to the server, from CNI_ARGS.
    expect(lab.leases()[0]).toMatchObject({ address: address.split('/')[0] });
    expect(readFileSync(lab.leaseFile, 'utf8')).toContain(' web-1 ');
    await sh(['ip', 'netns', 'exec', pod, 'ping', '-c1', '-W2', '10.77.21.1']);

    const checked = await execPlugin(join(BUNDLE, 'macvlan'), { ...common, command: 'CHECK', conf: { ...conf, prevResult: result } });
    expect(checked.error, checked.stdout).toBeUndefined();
    const status = await execPlugin(DHCP, { command: 'STATUS', cniPath: BUNDLE, conf: { cniVersion: '1.1.0', name: 'lan', type: 'dhcp', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } } });
    expect(status.error, status.stdout).toBeUndefined();

    const deleted = await execPlugin(join(BUNDLE, 'macvlan'), { ...common, command: 'DEL', conf });
    expect(deleted.error, deleted.stdout).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
    expect(lab.log()).toContain('DHCPRELEASE(br0)');

    expect(await daemon.stop()).toBe(0);
    expect(existsSync(lab.socketPath)).toBe(false);
    expect(existsSync(join(lab.dir, 'dhcp.pid'))).toBe(false);
    const afterStop = await execPlugin(DHCP, { command: 'STATUS', cniPath: BUNDLE, conf: { cniVersion: '1.1.0', name: 'lan', type: 'dhcp', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } } });
    expect(afterStop.error?.code).toBe(50);
  }, 60_000);

  it('`dhcp daemon` serves a socket systemd hands over (LISTEN_FDS=1, descriptor 3)', async () => {
    const lab = await useLab(22);
    // What systemd does: bind and listen, then exec the service with the socket as fd 3.
    const script = [
      'import os, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      's.bind(sys.argv[1]); s.listen(16)',
      'os.dup2(s.fileno(), 3) if s.fileno() != 3 else None',
      'os.set_inheritable(3, True)',
      'env = {"PATH": os.environ["PATH"], "LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}',
      'os.execve(sys.argv[2], [sys.argv[2], "daemon", "-statedir", sys.argv[3]], env)',
    ].join('\n');
    const child = spawn('python3', ['-c', script, lab.socketPath, DHCP, lab.stateDir], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    onTestFinished(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    await expect.poll(() => stderr, { timeout: 10_000 }).toContain('daemon listening');
    const status = await execPlugin(DHCP, { command: 'STATUS', cniPath: BUNDLE, conf: { cniVersion: '1.1.0', name: 'lan', type: 'dhcp', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } } });
    expect(status.error, status.stdout + stderr).toBeUndefined();
    const pod = await lab.addPod();
    const added = await execPlugin(DHCP, { command: 'ADD', cniPath: BUNDLE, netns: pod.path, containerId: pod.containerId, conf: { cniVersion: '1.1.0', name: 'lan', type: 'dhcp', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } } });
    expect((added.result as ResultV100 | undefined)?.ips?.[0]?.address, added.stdout + stderr).toMatch(/^10\.77\.22\./);
    expect((await execPlugin(DHCP, { command: 'DEL', cniPath: BUNDLE, netns: pod.path, containerId: pod.containerId, conf: { cniVersion: '1.1.0', name: 'lan', type: 'dhcp', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } } })).error).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
  });

  it('`dhcp daemon` refuses unknown flags as Go does', async () => {
    const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(DHCP, ['daemon', '-nope'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('flag provided but not defined: -nope');
  });
});
