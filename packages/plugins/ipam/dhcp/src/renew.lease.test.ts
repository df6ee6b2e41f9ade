// SPDX-License-Identifier: Apache-2.0
import type { ResultV100 } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { podAddresses, useLab } from './lab.fixture.ts';
import { type InProcessRunner, configurePod, labDaemon, runDhcp, wait } from './lease.fixture.ts';

const run = runInProcess as unknown as InProcessRunner;

describe.skipIf(process.getuid?.() !== 0)('lease renewal', () => {
  it('renews a 2-minute lease at T1 from the configured address, and the server extends it', async () => {
    const lab = await useLab(11, { leaseTime: '2m' });
    const daemon = await labDaemon(lab);
    const pod = await lab.addPod();
    const added = await runDhcp(run, lab, pod, 'ADD');
    expect(added.error).toBeUndefined();
    const result = added.result as ResultV100;
    await configurePod(pod, result);
    const [first] = lab.leases();
    const [bound] = daemon.attachments();
    expect(bound?.state).toBe('bound');
    // dnsmasq gives T1 = 60 s for a 2-minute lease.
    await wait(55_000);
    expect(daemon.attachments()[0]?.boundAt).toBe(bound?.boundAt);
    await expect.poll(() => daemon.lines.some((line) => / renewed 10\.77\.11\./.test(line)), { timeout: 20_000, interval: 500 }).toBe(true);
    const [renewed] = daemon.attachments();
    expect(renewed?.state).toBe('bound');
    expect(renewed!.boundAt! - bound!.boundAt!).toBeGreaterThanOrEqual(59_000);
    expect(renewed!.boundAt! - bound!.boundAt!).toBeLessThan(75_000);
    const [extended] = lab.leases();
    expect(extended!.expiry).toBeGreaterThan(first!.expiry + 50);
    // Two REQUESTs from our MAC: the selecting one and the renewal, which the server ACKed.
    const requests = lab.log().split('\n').filter((line) => line.includes('DHCPACK(br0)') && line.includes(pod.mac));
    expect(requests).toHaveLength(2);
    expect(await podAddresses(pod)).toEqual([result.ips![0]!.address]);
    expect((await runDhcp(run, lab, pod, 'CHECK', result)).error).toBeUndefined();
    expect((await runDhcp(run, lab, pod, 'DEL')).error).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
  }, 180_000);
});
