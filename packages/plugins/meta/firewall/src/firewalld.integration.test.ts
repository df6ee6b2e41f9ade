// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec, execPlugin, useTestNetns, type TestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BIN = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));
const FIREWALLD = '/usr/sbin/firewalld';
const DBUS_DAEMON = '/usr/bin/dbus-daemon';

/** A system bus of our own: firewalld's policy files from /usr/share and /etc, everyone allowed to call. */
function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>/etc/dbus-1/system.d</includedir>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;
}

/** Start a process in the test's host namespace; stopped (TERM, then KILL) when the test ends. */
function startDaemon(netns: TestNetns, argv: string[], env: NodeJS.ProcessEnv): { output: () => string } {
  const child = spawn('ip', ['netns', 'exec', netns.host.name, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  onTestFinished(async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return { output: () => output };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not come up in ${timeoutMs} ms:\n${log()}`);
}

/**
 * A D-Bus system bus and firewalld inside the test's host namespace. firewalld runs in a private
 * mount namespace with a tmpfs on /run, so its /run/firewalld never reaches the machine, and reads
 * a copy of /etc/firewalld from the test's folder.
 */
async function startFirewalld(netns: TestNetns): Promise<Record<string, string>> {
  const socket = join(netns.dir, 'system_bus_socket');
  writeFileSync(join(netns.dir, 'bus.conf'), busConfig(socket));
  const address = `unix:path=${socket}`;
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DBUS_SYSTEM_BUS_ADDRESS: address };
  const bus = startDaemon(netns, [DBUS_DAEMON, `--config-file=${join(netns.dir, 'bus.conf')}`, '--nofork', '--nopidfile'], env);
  await waitFor('dbus-daemon', async () => existsSync(socket), 10_000, bus.output);
  const config = join(netns.dir, 'firewalld-etc');
  cpSync('/etc/firewalld', config, { recursive: true });
  const firewalld = startDaemon(
    netns,
    [
      'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      `mount -t tmpfs cni-test-run /run && exec ${FIREWALLD} --nofork --nopid --system-config ${config} --log-target console`,
    ],
    env,
  );
  const owner = () =>
    exec(null, ['dbus-send', '--system', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.GetNameOwner', 'string:org.fedoraproject.FirewallD1'], {
      env,
      allowFailure: true,
    });
  await waitFor('firewalld', async () => (await owner()).exitCode === 0, 30_000, firewalld.output);
  return { DBUS_SYSTEM_BUS_ADDRESS: address };
}

async function querySource(env: Record<string, string>, zone: string, source: string): Promise<string> {
  const { stdout } = await exec(
    null,
    ['dbus-send', '--system', '--print-reply', '--dest=org.fedoraproject.FirewallD1', '/org/fedoraproject/FirewallD1', 'org.fedoraproject.FirewallD1.zone.querySource', `string:${zone}`, `string:${source}`],
    { env: { PATH: '/usr/bin:/bin', ...env } },
  );
  return stdout.includes('boolean true') ? 'in zone' : 'not in zone';
}

const canRun = process.getuid?.() === 0 && existsSync(FIREWALLD) && existsSync(DBUS_DAEMON);

describe.skipIf(!canRun)('firewall (firewalld) against a real firewalld on its own D-Bus', () => {
  it('detects firewalld, adds each address as a zone source, CHECKs it, and removes it on DEL', async () => {
    const netns = await useTestNetns();
    const env = await startFirewalld(netns);
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', sandbox: netns.container.path }],
      ips: [{ address: '10.68.0.2/24', interface: 0 }, { address: 'fd68::2/64', interface: 0 }],
    };
    const run = (command: 'ADD' | 'CHECK' | 'DEL', extra: Record<string, unknown> = {}) =>
      execPlugin(`${BIN}/firewall`, {
        command,
        netns: netns.container,
        hostNetns: netns.host,
        containerId: 'fwd-ctr',
        ifName: 'eth0',
        cniPath: BIN,
        conf: { cniVersion: '1.0.0', name: 'fwdnet', type: 'firewall', prevResult, ...extra },
        extraEnv: env,
      });

    // No backend named: firewalld owns its name on the bus, so the plugin picks it.
    const add = await run('ADD');
    expect(add.stderr).toBe('');
    expect(add.exitCode).toBe(0);
    expect(await querySource(env, 'trusted', '10.68.0.2/32')).toBe('in zone');
    expect(await querySource(env, 'trusted', 'fd68::2/128')).toBe('in zone');
    // firewalld turned it into nftables rules in the test's namespace (and nowhere else).
    expect((await exec(netns.host, ['nft', 'list', 'table', 'inet', 'firewalld'])).stdout).toContain('10.68.0.2');
    // No iptables rules were written.
    expect((await exec(netns.host, ['iptables-save', '-t', 'filter'])).stdout).not.toContain('CNI-FORWARD');
    expect((await run('CHECK')).exitCode).toBe(0);
    expect((await run('DEL')).exitCode).toBe(0);
    expect(await querySource(env, 'trusted', '10.68.0.2/32')).toBe('not in zone');
    expect((await run('CHECK')).exitCode).not.toBe(0);
    expect((await run('DEL')).exitCode).toBe(0);

    // firewalldZone: a source belongs to one zone at a time, so this comes after the DEL.
    const internal = await run('ADD', { backend: 'firewalld', firewalldZone: 'internal' });
    expect(internal.stdout).toContain('10.68.0.2/24');
    expect(await querySource(env, 'internal', '10.68.0.2/32')).toBe('in zone');
    expect((await run('CHECK', { backend: 'firewalld', firewalldZone: 'internal' })).exitCode).toBe(0);
    expect((await run('DEL', { backend: 'firewalld', firewalldZone: 'internal' })).exitCode).toBe(0);
    expect(await querySource(env, 'internal', '10.68.0.2/32')).toBe('not in zone');
  });
});
