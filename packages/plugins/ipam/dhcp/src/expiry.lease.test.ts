// SPDX-License-Identifier: Apache-2.0
import type { ResultV100 } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { podAddresses, useLab } from './lab.fixture.ts';
import { type InProcessRunner, configurePod, labDaemon, runDhcp } from './lease.fixture.ts';

const run = runInProcess as unknown as InProcessRunner;

describe.skipIf(process.getuid?.() !== 0)('lease expiry', () => {
  it('with the server stopped: the address goes at expiry, CHECK names the lost lease, and it comes back with the server', async () => {
    const lab = await useLab(12, { leaseTime: '2m' });
    const daemon = await labDaemon(lab);
    const pod = await lab.addPod();
    const added = await runDhcp(run, lab, pod, 'ADD');
    expect(added.error).toBeUndefined();
    const result = added.result as ResultV100;
    const address = result.ips![0]!.address;
    await configurePod(pod, result);
    const expiresAt = daemon.attachments()[0]!.expiresAt!;
    await lab.stopDnsmasq();

    // Renewing from T1, rebinding from T2, then at expiry the address is removed.
    await expect.poll(() => daemon.attachments()[0]?.state, { timeout: 70_000, interval: 1000 }).toBe('renewing');
    await expect.poll(() => podAddresses(pod), { timeout: Math.max(0, expiresAt - Date.now()) + 15_000, interval: 1000 }).toEqual([]);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 1000);
    expect(daemon.attachments()[0]?.state).toBe('lost');
    const checked = await runDhcp(run, lab, pod, 'CHECK', result);
    expect(checked.error?.msg).toMatch(new RegExp(`the DHCP lease of ${address.replace(/\./g, '\\.')} for container ".*" interface "eth0" was lost: it expired at `));

    // The daemon keeps trying: with the server back, the lease and the address return.
    await lab.startDnsmasq();
    await expect.poll(() => daemon.attachments()[0]?.state, { timeout: 40_000, interval: 1000 }).toBe('bound');
    expect(await podAddresses(pod)).toEqual([address]);
    expect((await runDhcp(run, lab, pod, 'CHECK', result)).error).toBeUndefined();
    expect((await runDhcp(run, lab, pod, 'DEL')).error).toBeUndefined();
  }, 300_000);
});
