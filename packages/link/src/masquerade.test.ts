// SPDX-License-Identifier: Apache-2.0
import { NetfilterCommandError, NetfilterUnavailableError, type CommandRunner } from '@cni/netfilter';
import { describe, expect, it } from 'vitest';
import { setupMacSpoofCheck } from './macspoofchk.ts';
import { listIpMasq, setupIpMasq, teardownIpMasq } from './masquerade.ts';

describe('unusable backends', () => {
  const missing: CommandRunner = async (file, args) => {
    throw new NetfilterCommandError([file, ...args], -1, `ENOENT spawn ${file} ENOENT`);
  };
  const attachment = { network: 'n', containerId: 'c', ifName: 'eth0', addresses: ['10.0.0.2/24'] };

  it('reports a backend that cannot run here as unavailable', async () => {
    await expect(setupIpMasq(attachment, { runner: missing, backend: 'nftables' })).rejects.toSatisfy(
      (error: unknown) => NetfilterUnavailableError.isInstance(error) && error.backend === 'nftables',
    );
    await expect(setupIpMasq(attachment, { runner: missing })).rejects.toThrow(/^iptables is not usable here: running \["iptables"/);
    await expect(
      setupMacSpoofCheck({ containerId: 'c', ifName: 'eth0', hostIfName: 'veth1', mac: '02:00:00:00:00:01' }, { runner: missing }),
    ).rejects.toSatisfy(NetfilterUnavailableError.isInstance);
    // Teardown and listing have nothing to do where neither backend exists.
    await expect(teardownIpMasq(attachment, { runner: missing })).resolves.toBeUndefined();
    await expect(listIpMasq({ runner: missing })).resolves.toEqual([]);
  });
});
