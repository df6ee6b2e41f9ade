// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { runInProcess } from '@cni/testkit';
import type { NetConf } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { loadConf, ptp } from './index.ts';

const base = { cniVersion: '1.0.0', name: 'ptp-test', type: 'ptp', ipam: { type: 'host-local' } };

describe('ptp loadConf', () => {
  it('applies the defaults', () => {
    const conf = loadConf(base);
    expect(conf).toMatchObject({ ipMasq: false, ipMasqBackend: undefined, mtu: 0 });
  });

  it('reads every key', () => {
    const conf = loadConf({ ...base, ipMasq: true, ipMasqBackend: 'nftables', mtu: 1400 });
    expect(conf).toMatchObject({ ipMasq: true, ipMasqBackend: 'nftables', mtu: 1400 });
  });

  it.each([
    [{ ipMasq: 'yes' }, 'invalid ipMasq "yes", must be a boolean'],
    [{ ipMasqBackend: 'ipfw' }, 'invalid ipMasqBackend "ipfw", must be one of "iptables", "nftables"'],
    [{ mtu: -1 }, 'invalid mtu -1, must be an integer in [0, 65535]'],
    [{ mtu: 1.5 }, 'invalid mtu 1.5, must be an integer in [0, 65535]'],
    [{ ipam: undefined }, 'ipam.type must be specified: ptp needs an IPAM plugin'],
    [{ ipam: { type: '' } }, 'ipam.type must be specified: ptp needs an IPAM plugin'],
  ])('refuses %j with code 7', (extra, msg) => {
    expect(() => loadConf({ ...base, ...extra } as unknown as NetConf)).toThrow(expect.objectContaining({ code: 7, message: msg }));
  });
});

describe('ptp requests refused before anything is made', () => {
  const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(ptp, io), options);

  it('names the key and value of a bad configuration on ADD, CHECK, DEL, GC and STATUS', async () => {
    for (const command of ['ADD', 'CHECK', 'DEL'] as const) {
      const r = await run({ command, netns: '/var/run/netns/absent-ptp', conf: { ...base, mtu: 'big' }, cniPath: '/nonexistent' });
      expect(r.error).toEqual({ code: 7, msg: 'invalid mtu "big", must be an integer in [0, 65535]' });
    }
    for (const command of ['GC', 'STATUS'] as const) {
      const r = await run({ command, conf: { ...base, cniVersion: '1.1.0', ipMasqBackend: 'pf' }, cniPath: '/nonexistent' });
      expect(r.error).toEqual({ code: 7, msg: 'invalid ipMasqBackend "pf", must be one of "iptables", "nftables"' });
    }
  });

  it('answers ADD in a namespace that does not exist with code 3', async () => {
    const r = await run({ command: 'ADD', netns: '/var/run/netns/absent-ptp', conf: base, cniPath: '/nonexistent' });
    expect(r.error).toEqual({ code: 3, msg: 'failed to open netns "/var/run/netns/absent-ptp": no such file or directory' });
  });

  it('passes STATUS to the IPAM plugin', async () => {
    const r = await run({ command: 'STATUS', conf: { ...base, cniVersion: '1.1.0' }, cniPath: '/nonexistent' });
    expect(r.error?.msg).toContain('host-local');
  });
});
