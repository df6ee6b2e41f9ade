// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { useTestNetns } from './netns.ts';
import { readAddressList, readLink } from './readers.ts';

// The proof of the VM tier: ipvlan exists only as a module of the cloud kernel, not on the host.
describe('the VM tier kernel', () => {
  it('creates an ipvlan link in l2 mode on a dummy master and gives it an address', async () => {
    const netns = await useTestNetns({ container: false });
    await netns.execHost(['ip', 'link', 'add', 'dummy0', 'type', 'dummy']);
    await netns.execHost(['ip', 'link', 'set', 'dummy0', 'up']);
    await netns.execHost(['ip', 'link', 'add', 'link', 'dummy0', 'name', 'ipvl0', 'type', 'ipvlan', 'mode', 'l2']);
    await netns.execHost(['ip', 'addr', 'add', '10.5.0.2/24', 'dev', 'ipvl0']);
    await netns.execHost(['ip', 'link', 'set', 'ipvl0', 'up']);

    const link = await readLink(netns.host, 'ipvl0');
    expect(link?.linkinfo?.info_kind).toBe('ipvlan');
    expect(link?.linkinfo?.info_data).toMatchObject({ mode: 'l2' });
    expect(link?.link).toBe('dummy0');
    expect((await readLink(netns.host, 'dummy0'))?.linkinfo?.info_kind).toBe('dummy');
    expect(await readAddressList(netns.host, 'ipvl0')).toEqual(['10.5.0.2/24']);
  });
});
