// SPDX-License-Identifier: Apache-2.0
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { configureIface } from '@cni/ipam';
import { runPlugin } from '@cni/skel';
import type { ResultV100 } from '@cni/spec';
import { runInProcess, type PluginRunOptions } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type DaemonOptions, type DhcpDaemon, startDaemon } from './daemon.ts';
import { type Lab, type Pod, openDescriptors, podAddresses, sh, useLab } from './lab.fixture.ts';
import { dhcp } from './plugin.ts';

const root = process.getuid?.() === 0;

function conf(lab: Lab, ipam: Record<string, unknown> = {}, cniVersion = '1.1.0'): Record<string, unknown> {
  return { cniVersion, name: 'lan', type: 'macvlan', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath, ...ipam } };
}

async function daemonFor(lab: Lab, options: DaemonOptions = {}): Promise<DhcpDaemon & { lines: string[] }> {
  const lines: string[] = [];
  const daemon = await startDaemon({ socketPath: lab.socketPath, stateDir: lab.stateDir, timeoutMs: 2000, resendTimeoutMs: 15_000, log: (line) => lines.push(line), ...options });
  onTestFinished(() => daemon.close());
  return Object.assign(daemon, { lines });
}

const plugin = (lab: Lab, pod: Pod | undefined, options: Omit<PluginRunOptions, 'netns' | 'containerId'> & { ipam?: Record<string, unknown> }) =>
  runInProcess((io) => runPlugin(dhcp, io), {
    conf: conf(lab, options.ipam),
    cniPath: lab.dir,
    ...options,
    ...(pod === undefined ? {} : { netns: pod.path, containerId: pod.containerId }),
  });

/** Apply the result to the pod's eth0 as a main plugin does. */
async function configure(pod: Pod, result: ResultV100): Promise<void> {
  await configureIface('eth0', { ...result, interfaces: [{ name: 'eth0', sandbox: pod.path }], ips: (result.ips ?? []).map((ip) => ({ ...ip, interface: 0 })) }, { netns: pod.path });
}

describe.skipIf(!root)('dhcp against dnsmasq', () => {
  it('ADD gets a lease with gateway, routes and DNS; CHECK passes once configured; DEL releases it at the server', async () => {
    const lab = await useLab(1);
    const daemon = await daemonFor(lab);
    const pod = await lab.addPod();

    const added = await plugin(lab, pod, { command: 'ADD', ipam: { priority: 20 } });
    expect(added.error, added.stdout).toBeUndefined();
    const result = added.result as ResultV100;
    const address = result.ips?.[0]?.address ?? '';
    expect(address).toMatch(/^10\.77\.1\.\d+\/24$/);
    expect(result.ips?.[0]?.gateway).toBe('10.77.1.1');
    expect(result.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.77.1.1', priority: 20 },
      { dst: '10.99.1.0/24', gw: '10.77.1.254', priority: 20 },
    ]);
    expect(result.dns).toEqual({ nameservers: ['10.77.1.53'], domain: 'pods.test' });
    // The server holds it for our MAC and our client id (0x00 + containerID/network/ifName).
    const [lease] = lab.leases();
    expect(lease).toMatchObject({ mac: pod.mac, address: address.split('/')[0] });
    expect(lease?.clientId).toBe(`00:${[...Buffer.from(`${pod.containerId}/lan/eth0`)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);

    await configure(pod, result);
    expect(await podAddresses(pod)).toEqual([address]);
    const routes = JSON.parse(await sh(['ip', '-n', pod.name, '-j', 'route', 'show', 'dev', 'eth0'])) as { dst: string; gateway?: string; metric?: number }[];
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.77.1.1', metric: 20 }));

    const checked = await plugin(lab, pod, { command: 'CHECK', conf: { ...conf(lab), prevResult: result } });
    expect(checked.error, checked.stdout).toBeUndefined();

    // A second ADD of the same attachment reuses the lease (upstream since v1.2).
    const again = await plugin(lab, pod, { command: 'ADD' });
    expect((again.result as ResultV100).ips?.[0]?.address).toBe(address);
    expect(daemon.attachments()).toHaveLength(1);

    const deleted = await plugin(lab, pod, { command: 'DEL' });
    expect(deleted.error, deleted.stdout).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
    expect(lab.log()).toMatch(/DHCPRELEASE\(br0\) 10\.77\.1\.\d+/);
    expect(daemon.attachments()).toEqual([]);
    expect((await sh(['ls', '-A', lab.stateDir])).trim()).toBe('');

    // DEL again, and DEL of an attachment never added, succeed.
    expect((await plugin(lab, pod, { command: 'DEL' })).error).toBeUndefined();
    const unknown = await plugin(lab, pod, { command: 'CHECK', conf: { ...conf(lab), prevResult: result } });
    expect(unknown.error?.msg).toMatch(/keeps no lease for container/);
  });

  it('works with every result version the plugin serves', async () => {
    const lab = await useLab(2);
    await daemonFor(lab);
    for (const version of ['0.3.1', '0.4.0', '1.0.0']) {
      const pod = await lab.addPod();
      const added = await plugin(lab, pod, { command: 'ADD', conf: conf(lab, {}, version) });
      expect(added.error, added.stdout).toBeUndefined();
      expect((added.result as { cniVersion: string }).cniVersion).toBe(version);
      expect(lab.leases()).toHaveLength(1);
      expect((await plugin(lab, pod, { command: 'DEL', conf: conf(lab, {}, version) })).error).toBeUndefined();
      // Not configured on the interface: the release goes out broadcast, and the server drops the lease all the same.
      await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
    }
  });

  it('tells attachments that share a MAC (as ipvlan pods do) apart by client identifier', async () => {
    const lab = await useLab(6);
    await daemonFor(lab);
    const one = await lab.addPod({ mac: '02:77:06:aa:aa:aa' });
    const two = await lab.addPod({ mac: '02:77:06:aa:aa:aa' });
    const [a, b] = await Promise.all([plugin(lab, one, { command: 'ADD' }), plugin(lab, two, { command: 'ADD' })]);
    expect(a.error ?? b.error).toBeUndefined();
    const first = (a.result as ResultV100).ips?.[0]?.address;
    const second = (b.result as ResultV100).ips?.[0]?.address;
    expect(first).not.toBe(second);
    const leases = lab.leases();
    expect(leases.map((l) => l.mac)).toEqual(['02:77:06:aa:aa:aa', '02:77:06:aa:aa:aa']);
    expect(new Set(leases.map((l) => l.clientId)).size).toBe(2);
    // A provided client identifier replaces the default one.
    const three = await lab.addPod({ mac: '02:77:06:aa:aa:aa' });
    const c = await plugin(lab, three, { command: 'ADD', ipam: { provide: [{ option: 'dhcp-client-identifier', value: 'pod-three' }] } });
    expect(c.error).toBeUndefined();
    expect(lab.leases().map((l) => l.clientId)).toContain([...Buffer.from('pod-three')].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    // DEL of one releases its own lease only.
    expect((await plugin(lab, one, { command: 'DEL' })).error).toBeUndefined();
    await expect.poll(() => lab.leases().map((l) => l.address).sort(), { timeout: 3000 }).toEqual(
      [second, (c.result as ResultV100).ips?.[0]?.address].map((x) => x?.split('/')[0]).sort(),
    );
    for (const pod of [two, three]) expect((await plugin(lab, pod, { command: 'DEL', ...(pod === three ? { ipam: { provide: [{ option: 'dhcp-client-identifier', value: 'pod-three' }] } } : {}) })).error).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
  });

  it('bad input: a CNI error naming the cause, and no lease kept', async () => {
    const lab = await useLab(3);
    const pod = await lab.addPod();

    // No daemon.
    const none = await plugin(lab, pod, { command: 'ADD' });
    expect(none.error?.msg).toMatch(/error dialing DHCP daemon on ".*dhcp\.sock": no such socket/);
    const status = await plugin(lab, undefined, { command: 'STATUS' });
    expect(status.error?.code).toBe(50);
    expect(status.error?.msg).toMatch(/error dialing DHCP daemon/);
    const delNone = await plugin(lab, pod, { command: 'DEL' });
    expect(delNone.error?.msg).toMatch(/error dialing DHCP daemon/);

    // A path that is not a socket.
    const file = join(lab.dir, 'plain-file');
    writeFileSync(file, 'x');
    const notSocket = await plugin(lab, pod, { command: 'ADD', ipam: { daemonSocketPath: file } });
    expect(notSocket.error?.msg).toMatch(/on ".*plain-file": the path is not a socket/);

    // Something else listening that speaks HTTP, as upstream's Go daemon does.
    const goLike = createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n400 Bad Request')));
    const goPath = join(lab.dir, 'go.sock');
    await new Promise<void>((resolve) => goLike.listen(goPath, resolve));
    onTestFinished(() => new Promise<void>((resolve) => goLike.close(() => resolve())));
    const go = await plugin(lab, pod, { command: 'ADD', ipam: { daemonSocketPath: goPath } });
    expect(go.error?.msg).toMatch(/upstream's Go dhcp daemon/);

    const daemon = await daemonFor(lab);
    expect((await plugin(lab, undefined, { command: 'STATUS' })).error).toBeUndefined();
    // A second daemon on the same socket is refused; the first keeps serving.
    await expect(startDaemon({ socketPath: lab.socketPath, stateDir: lab.stateDir })).rejects.toThrow(/another daemon already listens on/);
    expect((await plugin(lab, undefined, { command: 'STATUS' })).error).toBeUndefined();

    // Unknown options are refused before any lease is asked for.
    const unknown = await plugin(lab, pod, { command: 'ADD', ipam: { request: [{ option: 'no-such-option' }] } });
    expect(unknown.error).toMatchObject({ code: 7 });
    expect(unknown.error?.msg).toMatch(/ipam\.request\[0\]: unknown dhcp option "no-such-option"/);

    // An interface without carrier (its peer is down).
    const dark = await lab.addPod({ carrier: false });
    const noCarrier = await plugin(lab, dark, { command: 'ADD' });
    expect(noCarrier.error?.msg).toMatch(/interface "eth0" in netns ".*" has no carrier/);

    // An interface that does not exist.
    const missing = await plugin(lab, pod, { command: 'ADD', ifName: 'nope0' });
    expect(missing.error?.msg).toMatch(/interface "nope0" not found in netns/);

    expect(daemon.attachments()).toEqual([]);
    expect(lab.leases()).toEqual([]);
    expect((await sh(['ls', '-A', lab.stateDir])).trim()).toBe('');
  });

  it('a restarted daemon resumes the leases kept on disk and drops those whose namespace is gone', async () => {
    const lab = await useLab(4);
    const first = await daemonFor(lab);
    const kept = await lab.addPod();
    const gone = await lab.addPod();
    const a = await plugin(lab, kept, { command: 'ADD' });
    const b = await plugin(lab, gone, { command: 'ADD' });
    expect(a.error ?? b.error).toBeUndefined();
    await configure(kept, a.result as ResultV100);
    await first.close();
    await sh(['ip', 'netns', 'del', gone.name]);

    const second = await daemonFor(lab);
    await second.resumed;
    expect(second.attachments().map((x) => [x.containerId, x.state, x.address])).toEqual([[kept.containerId, 'bound', (a.result as ResultV100).ips?.[0]?.address]]);
    expect(second.lines.join('\n')).toMatch(/dropping the lease of container ".*-1"/);
    const checked = await plugin(lab, kept, { command: 'CHECK', conf: { ...conf(lab), prevResult: a.result } });
    expect(checked.error).toBeUndefined();
    expect((await plugin(lab, kept, { command: 'DEL' })).error).toBeUndefined();
    // The gone pod's lease runs out at the server. dnsmasq rewrites its lease file whole on the
    // release: a read at that moment sees an empty file, so read until it settles.
    let macs: string[] = [];
    for (let tries = 0; tries < 50; tries++) {
      macs = lab.leases().map((l) => l.mac);
      if (macs.length > 0 && !macs.includes(kept.mac)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(macs).toEqual([gone.mac]);
  });

  it('100 concurrent leases, without leaking sockets or timers', async () => {
    const lab = await useLab(5, { dnsmasqArgs: ['--dhcp-lease-max=1000'] });
    const daemon = await daemonFor(lab, { resendTimeoutMs: 60_000 });
    const pods: Pod[] = [];
    for (let i = 0; i < 100; i++) pods.push(await lab.addPod());
    const descriptors = openDescriptors();
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

    const started = Date.now();
    const results = await Promise.all(pods.map((pod) => plugin(lab, pod, { command: 'ADD' })));
    const elapsed = Date.now() - started;
    expect(results.filter((r) => r.error !== undefined).map((r) => r.error?.msg)).toEqual([]);
    const addresses = new Set(results.map((r) => (r.result as ResultV100).ips?.[0]?.address));
    expect(addresses.size).toBe(100);
    expect(lab.leases()).toHaveLength(100);
    expect(daemon.attachments().filter((x) => x.state === 'bound')).toHaveLength(100);
    console.log(`100 concurrent leases in ${elapsed} ms`);

    const deleted = await Promise.all(pods.map((pod) => plugin(lab, pod, { command: 'DEL' })));
    expect(deleted.filter((r) => r.error !== undefined)).toEqual([]);
    await expect.poll(() => lab.leases().length, { timeout: 5000 }).toBe(0);
    expect(daemon.attachments()).toEqual([]);
    // Every DHCP socket closed, no timer left (a lease keeps one timer while bound).
    await expect.poll(() => openDescriptors(), { timeout: 3000 }).toBeLessThanOrEqual(descriptors);
    expect((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length).toBeLessThanOrEqual(handles);
  }, 180_000);
});
