// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { CniError, type NetConf } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { bond } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'bond-test', type: 'bond', mode: 'active-backup', links: [{ name: 'net1' }, { name: 'net2' }] };
const load = (extra: Record<string, unknown>) => loadConf({ ...base, ...extra } as NetConf);
const failure = (extra: Record<string, unknown>) => {
  try {
    load(extra);
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('loadConf accepted the configuration');
};
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(bond, io), options);

describe('bond loadConf', () => {
  it('applies the defaults', () => {
    expect(load({})).toMatchObject({ mode: 'active-backup', miimon: 100, failOverMac: 0, linksInContainer: false, mtu: 1500, links: ['net1', 'net2'], ipamType: '' });
    expect(load({})).toMatchObject({ xmitHashPolicy: undefined, allSlavesActive: undefined, tlbDynamicLb: undefined });
  });

  it.each(['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'])('accepts mode %s', (mode) => {
    expect(load({ mode }).mode).toBe(mode);
  });

  it('reads miimon as bond-cni does (a string of digits) and as a number', () => {
    expect(load({ miimon: '250' }).miimon).toBe(250);
    expect(load({ miimon: 50 }).miimon).toBe(50);
  });

  it('reads the remaining keys', () => {
    expect(load({ failOverMac: 1, linksInContainer: true, mtu: 9000, ipam: { type: 'static' } })).toMatchObject({
      failOverMac: 1,
      linksInContainer: true,
      mtu: 9000,
      ipamType: 'static',
    });
  });

  it('reads xmitHashPolicy, allSlavesActive and tlbDynamicLb (the last in balance-tlb and balance-alb only)', () => {
    expect(load({ xmitHashPolicy: 'layer3+4', allSlavesActive: 1 })).toMatchObject({ xmitHashPolicy: 'layer3+4', allSlavesActive: 1 });
    expect(load({ mode: 'balance-tlb', tlbDynamicLb: 0 }).tlbDynamicLb).toBe(0);
    expect(failure({ tlbDynamicLb: 1 })).toEqual({ code: 7, msg: 'invalid tlbDynamicLb 1, must be set only in balance-tlb or balance-alb mode (mode is active-backup)' });
    expect(failure({ xmitHashPolicy: 'layer9' }).msg).toBe('invalid xmitHashPolicy "layer9", must be one of layer2, layer3+4, layer2+3, encap2+3, encap3+4, vlan+srcmac');
    expect(failure({ allSlavesActive: 2 })).toEqual({ code: 7, msg: 'invalid allSlavesActive 2, must be an integer in [0, 1]' });
  });

  it('refuses bad keys, naming key and value', () => {
    expect(failure({ mode: undefined })).toEqual({
      code: 7,
      msg: 'invalid mode null, must be one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb',
    });
    expect(failure({ mode: 'round-robin' }).msg).toMatch(/^invalid mode "round-robin", must be one of /);
    expect(failure({ miimon: 'fast' }).msg).toMatch(/^invalid miimon "fast", must be a whole number of milliseconds/);
    expect(failure({ miimon: -1 }).code).toBe(7);
    expect(failure({ failOverMac: 3 })).toEqual({ code: 7, msg: 'invalid failOverMac 3, must be an integer in [0, 2]' });
    expect(failure({ mtu: 67 })).toEqual({ code: 7, msg: 'invalid mtu 67, must be an integer in [68, 65535]' });
    expect(failure({ linksInContainer: 'no' }).msg).toBe('invalid linksInContainer "no", must be a boolean');
    expect(failure({ links: undefined }).msg).toBe('invalid links null, must be a list of at least two {"name": "<link>"} objects');
    expect(failure({ links: [{ name: 'net1' }] }).code).toBe(7);
    expect(failure({ links: [{ name: 'net1' }, { name: 'net1' }] }).msg).toMatch(/a list of distinct links \("net1" is named twice\)$/);
    expect(failure({ links: [{ name: 'net1' }, { nom: 'x' }] }).msg).toBe('invalid links[1].name null, must be a link name');
    expect(failure({ ipam: { type: 'bond' } }).msg).toBe('invalid ipam type "bond": bond is not an IPAM plugin');
  });
});

describe('bond plugin without a kernel', () => {
  it('succeeds DEL without a namespace, with one gone, and with a configuration ADD refuses', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-bond', conf: { ...base, mode: 'x' }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('refuses ADD with bad keys before touching anything', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-bond', conf: { ...base, failOverMac: 9 }, cniPath: '/x' });
    expect(added.error).toMatchObject({ code: 7, msg: 'invalid failOverMac 9, must be an integer in [0, 2]' });
  });
});
