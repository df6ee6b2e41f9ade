// SPDX-License-Identifier: Apache-2.0
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultV100 } from '@cni/spec';
import { execPlugin } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Lab, sh, useLab } from './lab.fixture.ts';

// The host kernel has no ipvlan: this runs in the VM tier's cloud kernel (run-vm-tier.mjs), where
// every step costs tens of times its native time, so the steps are few and run side by side.

const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url));

/** Wait until `check` holds, or fail with what it last saw. */
async function until<T>(read: () => T, check: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The built `dhcp daemon`, its socket in the lab's folder, stopped when the test finishes. */
async function startBuiltDaemon(lab: Lab): Promise<{ output(): string }> {
  let output = '';
  const child = spawn(join(BUNDLE, 'dhcp'), ['daemon', '-socketpath', lab.socketPath, '-statedir', lab.stateDir], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  await until(() => existsSync(lab.socketPath) || child.exitCode !== null, Boolean, 60_000, `dhcp daemon start (${output})`);
  if (!existsSync(lab.socketPath)) throw new Error(`dhcp daemon exited: ${output}`);
  return { output: () => output };
}

const hex = (text: string) => [...Buffer.from(text)].map((byte) => byte.toString(16).padStart(2, '0')).join(':');

describe.skipIf(process.getuid?.() !== 0)('ipvlan + dhcp in the VM kernel', () => {
  it('two l2 pods sharing the master MAC get different leases by client id, reach each other and the server, and DEL releases both (built executables)', async () => {
    const lab = await useLab(40);
    const daemon = await startBuiltDaemon(lab);
    // The runtime's host namespace holds the master, a veth whose peer is on the server's bridge.
    const base = lab.server.slice(0, -2);
    const host = `${base}-h`;
    const pods = [`${base}-a`, `${base}-b`];
    onTestFinished(async () => {
      for (const ns of [...pods, host]) await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
    });
    for (const ns of [host, ...pods]) await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', '-n', lab.server, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', host]);
    await sh(['ip', '-n', lab.server, 'link', 'set', 'up0', 'master', 'br0', 'up']);
    await sh(['ip', '-n', host, 'link', 'set', 'uplink0', 'up']);
    const [uplink] = JSON.parse(await sh(['ip', '-n', host, '-j', 'link', 'show', 'dev', 'uplink0'])) as { address: string }[];

    const conf = { cniVersion: '1.1.0', name: 'lan', type: 'ipvlan', master: 'uplink0', mode: 'l2', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } };
    const run = (command: 'ADD' | 'DEL', index: number) =>
      execPlugin(join(BUNDLE, 'ipvlan'), {
        command,
        conf,
        cniPath: BUNDLE,
        containerId: `ctr-${pods[index]}`,
        netns: `/var/run/netns/${pods[index]}`,
        hostNetns: { name: host, path: `/var/run/netns/${host}` },
        timeoutMs: 90_000,
      });

    const added = await Promise.all([run('ADD', 0), run('ADD', 1)]);
    for (const out of added) expect(out.error, out.stdout + out.stderr + daemon.output()).toBeUndefined();
    const addresses = added.map((out) => (out.result as ResultV100).ips?.[0]?.address ?? '');
    for (const address of addresses) expect(address).toMatch(/^10\.77\.40\.\d+\/24$/);
    expect(addresses[0]).not.toBe(addresses[1]);

    // The server's view: two leases for the one MAC, told apart by the client id (0x00 + containerID/network/ifName).
    const leases = lab.leases().sort((a, b) => a.clientId.localeCompare(b.clientId));
    expect(leases.map((lease) => lease.mac)).toEqual([uplink?.address, uplink?.address]);
    expect(leases.map((lease) => lease.clientId)).toEqual(pods.map((pod) => `00:${hex(`ctr-${pod}/lan/eth0`)}`).sort());
    expect(leases.map((lease) => lease.address).sort()).toEqual(addresses.map((address) => address.split('/')[0]).sort());

    // Each pod's own view (ip -j), and traffic: pod to pod across the master, pod to the server.
    for (const [index, pod] of pods.entries()) {
      const [link] = JSON.parse(await sh(['ip', '-n', pod, '-j', 'addr', 'show', 'dev', 'eth0'])) as { address: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
      expect(link?.address).toBe(uplink?.address);
      expect(link?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([addresses[index]]);
    }
    await sh(['ip', 'netns', 'exec', pods[0]!, 'ping', '-c1', '-W2', addresses[1]!.split('/')[0]!]);
    await sh(['ip', 'netns', 'exec', pods[1]!, 'ping', '-c1', '-W2', '10.77.40.1']);

    const deleted = await Promise.all([run('DEL', 0), run('DEL', 1)]);
    for (const out of deleted) expect(out.error, out.stdout + out.stderr).toBeUndefined();
    await until(() => lab.leases(), (now) => now.length === 0, 10_000, 'leases after DEL');
    expect(lab.log().match(/DHCPRELEASE\(br0\)/g)).toHaveLength(2);
  });
});
