// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { CniError, type NetConf } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { vlan } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'vlan-test', type: 'vlan', master: 'eth0', ipam: { type: 'static' } };
const load = (extra: Record<string, unknown>) => loadConf({ ...base, ...extra } as NetConf);
const failure = (extra: Record<string, unknown>) => {
  try {
    load(extra);
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message, details: error.details };
    throw error;
  }
  throw new Error('loadConf accepted the configuration');
};
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(vlan, io), options);

describe('vlan loadConf', () => {
  it('applies upstream defaults', () => {
    expect(load({})).toMatchObject({ master: 'eth0', vlanId: 0, mtu: 0, linkInContainer: false, ipamType: 'static' });
  });

  it('reads every key', () => {
    expect(load({ vlanId: 4094, mtu: 1400, linkInContainer: true })).toMatchObject({ vlanId: 4094, mtu: 1400, linkInContainer: true });
  });

  it('requires master and IPAM, with upstream text', () => {
    expect(failure({ master: undefined })).toMatchObject({
      code: 7,
      msg: '"master" field is required. It specifies the host interface name to create the VLAN for',
    });
    expect(failure({ master: '' }).code).toBe(7);
    expect(failure({ ipam: undefined })).toMatchObject({ code: 7, msg: 'vlan interface requires an IPAM configuration', details: 'ipam: null' });
  });

  it('refuses bad values, naming key and value', () => {
    expect(failure({ vlanId: 4095 })).toMatchObject({ code: 7, msg: 'invalid vlanId 4095, must be an integer in [0, 4094]' });
    expect(failure({ vlanId: -1 })).toMatchObject({ code: 7, msg: 'invalid vlanId -1, must be an integer in [0, 4094]' });
    expect(failure({ vlanId: '10' })).toMatchObject({ code: 7, msg: 'invalid vlanId "10", must be an integer in [0, 4094]' });
    expect(failure({ mtu: -1 }).msg).toBe('invalid mtu -1, must be an integer in [0, master MTU]');
    expect(failure({ master: 5 }).msg).toBe('invalid master 5, must be a string');
    expect(failure({ linkInContainer: 1 }).msg).toBe('invalid linkInContainer 1, must be a boolean');
  });
});

describe('vlan plugin without a kernel', () => {
  it('succeeds DEL without a namespace and with one gone, even with a master ADD would refuse (upstream fails there)', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: { ...base, ipam: undefined }, cniPath: '/x' })).exitCode).toBe(0);
    const conf = { ...base, master: '', ipam: undefined };
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-vlan', conf, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('refuses ADD with bad keys before touching anything', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-vlan', conf: { ...base, vlanId: 5000 }, cniPath: '/x' });
    expect(added.error).toMatchObject({ code: 7, msg: 'invalid vlanId 5000, must be an integer in [0, 4094]' });
  });
});
