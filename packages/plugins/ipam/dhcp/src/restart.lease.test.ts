// SPDX-License-Identifier: Apache-2.0
import type { ResultV100 } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { podAddresses, useLab } from './lab.fixture.ts';
import { type InProcessRunner, configurePod, labDaemon, runDhcp, wait } from './lease.fixture.ts';

const run = runInProcess as unknown as InProcessRunner;

describe.skipIf(process.getuid?.() !== 0)('daemon restart mid-lease', () => {
  it('a daemon restarted mid-lease resumes the lease from disk and renews it at T1', async () => {
    const lab = await useLab(13, { leaseTime: '2m' });
    const first = await labDaemon(lab);
    const pod = await lab.addPod();
    const added = await runDhcp(run, lab, pod, 'ADD');
    expect(added.error).toBeUndefined();
    const result = added.result as ResultV100;
    await configurePod(pod, result);
    const boundAt = first.attachments()[0]!.boundAt!;
    await wait(10_000);
    await first.close();
    await wait(5000);

    const second = await labDaemon(lab);
    await second.resumed;
    expect(second.attachments().map((a) => [a.containerId, a.state, a.address, a.boundAt])).toEqual([[pod.containerId, 'bound', result.ips![0]!.address, boundAt]]);
    expect((await runDhcp(run, lab, pod, 'CHECK', result)).error).toBeUndefined();
    await expect.poll(() => second.lines.some((line) => / renewed 10\.77\.13\./.test(line)), { timeout: 70_000, interval: 500 }).toBe(true);
    expect(second.attachments()[0]!.boundAt! - boundAt).toBeGreaterThanOrEqual(59_000);
    expect(lab.log().split('\n').filter((line) => line.includes('DHCPACK(br0)') && line.includes(pod.mac))).toHaveLength(2);
    expect(await podAddresses(pod)).toEqual([result.ips![0]!.address]);
    expect((await runDhcp(run, lab, pod, 'DEL')).error).toBeUndefined();
    await expect.poll(() => lab.leases(), { timeout: 3000 }).toEqual([]);
  }, 180_000);
});
