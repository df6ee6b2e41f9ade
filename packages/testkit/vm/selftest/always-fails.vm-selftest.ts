// SPDX-License-Identifier: Apache-2.0
// Not a test of the suite: run it by name to see that a failing assertion in the VM fails the
// command (`node packages/testkit/vm/run-vm-tier.mjs packages/testkit/vm/selftest/always-fails.vm-selftest.ts`
// must exit 1 with "1 passed, 1 failed").
import { describe, expect, it } from 'vitest';
import { useTestNetns } from '../../src/netns.ts';
import { readLink } from '../../src/readers.ts';

describe('the VM tier self-test', () => {
  it('passes', async () => {
    const netns = await useTestNetns({ container: false });
    await netns.execHost(['ip', 'link', 'add', 'dummy0', 'type', 'dummy']);
    expect((await readLink(netns.host, 'dummy0'))?.linkinfo?.info_kind).toBe('dummy');
  });

  it('fails on purpose', async () => {
    const netns = await useTestNetns({ container: false });
    await netns.execHost(['ip', 'link', 'add', 'dummy0', 'type', 'dummy']);
    expect((await readLink(netns.host, 'dummy0'))?.linkinfo?.info_kind).toBe('ipvlan');
  });
});
