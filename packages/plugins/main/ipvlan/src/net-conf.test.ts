// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { CniError, type NetConf, type Result } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { ipvlan } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'ipvlan-test', type: 'ipvlan' };
const NETNS = '/var/run/netns/pod';
const load = (extra: Record<string, unknown>, prevResult?: Result) => loadConf({ ...base, ...extra } as NetConf, prevResult, NETNS);
const failure = (extra: Record<string, unknown>, prevResult?: Result) => {
  try {
    load(extra, prevResult);
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message, details: error.details };
    throw error;
  }
  throw new Error('loadConf accepted the configuration');
};
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(ipvlan, io), options);

describe('ipvlan loadConf', () => {
  it('applies upstream defaults', () => {
    expect(load({})).toMatchObject({ master: '', mode: 'l2', mtu: 0, linkInContainer: false, ipamType: '', chained: undefined });
  });

  it.each(['l2', 'l3', 'l3s'])('accepts mode %s', (mode) => {
    expect(load({ mode }).mode).toBe(mode);
  });

  it('reads an empty mode as l2, as upstream', () => {
    expect(load({ mode: '' }).mode).toBe('l2');
  });

  it('refuses an unknown mode, naming it', () => {
    expect(failure({ mode: 'l4' })).toMatchObject({ code: 7, msg: 'unknown ipvlan mode: "l4"', details: 'mode must be one of l2, l3, l3s' });
  });

  it('refuses keys of the wrong type, naming key and value', () => {
    expect(failure({ master: 7 })).toMatchObject({ code: 7, msg: 'invalid master 7, must be a string' });
    expect(failure({ mtu: '1500' })).toMatchObject({ code: 7, msg: 'invalid mtu "1500", must be an integer in [0, master MTU]' });
    expect(failure({ mtu: -1 })).toMatchObject({ code: 7, msg: 'invalid mtu -1, must be an integer in [0, master MTU]' });
    expect(failure({ mtu: 1.5 })).toMatchObject({ code: 7 });
    expect(failure({ mode: 3 })).toMatchObject({ code: 7, msg: 'invalid mode 3, must be a string' });
    expect(failure({ linkInContainer: 'yes' })).toMatchObject({ code: 7, msg: 'invalid linkInContainer "yes", must be a boolean' });
  });

  it('reads the remaining keys', () => {
    expect(load({ master: 'eth1', mode: 'l3s', mtu: 1400, linkInContainer: true, ipam: { type: 'static' } })).toMatchObject({
      master: 'eth1',
      mode: 'l3s',
      mtu: 1400,
      linkInContainer: true,
      ipamType: 'static',
    });
  });

  describe('chained', () => {
    const prev = (interfaces: { name: string; sandbox?: string }[]): Result => ({
      cniVersion: '1.1.0',
      interfaces,
      ips: [{ address: '10.1.0.5/24', interface: 0 }],
    });

    it('takes the single interface of prevResult as the master, in the container when its sandbox is', () => {
      expect(load({}, prev([{ name: 'net0' }]))).toMatchObject({ master: 'net0', linkInContainer: false });
      expect(load({}, prev([{ name: 'net0', sandbox: NETNS }]))).toMatchObject({ master: 'net0', linkInContainer: true });
      expect(load({ master: 'eth9' }, prev([{ name: 'net0' }, { name: 'net1' }]))).toMatchObject({ master: 'eth9' });
      expect(load({}, prev([{ name: 'net0' }])).chained?.ips).toEqual([{ address: '10.1.0.5/24', interface: 0 }]);
    });

    it('refuses prevResult without a single named interface when no master is set, saying so', () => {
      expect(failure({}, prev([]))).toMatchObject({ code: 7, msg: 'chained master failure. PrevResult lacks a single named interface' });
      const two = failure({}, prev([{ name: 'a' }, { name: 'b' }]));
      expect(two.details).toBe('prevResult has 2 interfaces ("a", "b") and no master is configured');
      expect(failure({}, prev([{ name: '' }])).code).toBe(7);
    });
  });
});

describe('ipvlan plugin without a kernel', () => {
  it('refuses ADD without IPAM and without a chained result, before touching anything', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-ipvlan', conf: base, cniPath: '/x' });
    expect(added.error).toMatchObject({
      code: 7,
      msg: 'ipvlan needs an IPAM configuration unless chained after a plugin whose result has addresses',
      details: 'ipam: null, prevResult absent',
    });
  });

  it('succeeds DEL without a namespace, with one already gone, and with keys ADD would refuse', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-ipvlan', conf: { ...base, mode: 'nope' }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('answers STATUS and GC without IPAM with success, and forwards them to IPAM', async () => {
    expect((await run({ command: 'STATUS', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'GC', conf: { ...base, 'cni.dev/valid-attachments': [] }, cniPath: '/x' })).exitCode).toBe(0);
    const status = await run({ command: 'STATUS', conf: { ...base, ipam: { type: 'absent-ipam' } }, cniPath: '/nonexistent' });
    expect(status.error?.msg).toContain('absent-ipam');
  });
});
