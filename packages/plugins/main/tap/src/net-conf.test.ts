// SPDX-License-Identifier: Apache-2.0
import { loadArgs, runPlugin } from '@cni/skel';
import { CniError } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { tap } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.0.0', name: 'tap-test', type: 'tap' };
const load = (extra: Record<string, unknown>, args = '') => loadConf({ conf: { ...base, ...extra }, loadArgs: (schema) => loadArgs(args, schema) });
const failure = (extra: Record<string, unknown>, args = '') => {
  try {
    load(extra, args);
  } catch (error) {
    return { code: CniError.isInstance(error) ? error.code : 999, msg: (error as Error).message };
  }
  throw new Error('loadConf accepted the configuration');
};

describe('tap loadConf', () => {
  it('applies upstream defaults', () => {
    expect(load({})).toMatchObject({ multiQueue: false, mtu: 0, mac: undefined, owner: undefined, group: undefined, selinuxContext: '', bridge: '', ipamType: '' });
  });

  it('reads every key', () => {
    expect(
      load({ multiQueue: true, mtu: 9000, owner: 0, group: 4294967295, selinuxContext: 'system_u:system_r:container_t:s0', bridge: 'br0', ipam: { type: 'static' } }),
    ).toMatchObject({ multiQueue: true, mtu: 9000, owner: 0, group: 4294967295, selinuxContext: 'system_u:system_r:container_t:s0', bridge: 'br0', ipamType: 'static' });
  });

  it('refuses keys of the wrong type, naming key and value', () => {
    expect(failure({ multiQueue: 'yes' })).toEqual({ code: 7, msg: 'invalid multiQueue "yes", must be a boolean' });
    expect(failure({ mtu: -1 })).toEqual({ code: 7, msg: 'invalid mtu -1, must be a non-negative integer' });
    expect(failure({ owner: -1 })).toEqual({ code: 7, msg: 'invalid owner -1, must be an integer in [0, 4294967295]' });
    expect(failure({ group: 'wheel' })).toEqual({ code: 7, msg: 'invalid group "wheel", must be an integer in [0, 4294967295]' });
    expect(failure({ selinuxContext: 1 })).toEqual({ code: 7, msg: 'invalid selinuxContext 1, must be a string' });
    expect(failure({ bridge: false })).toEqual({ code: 7, msg: 'invalid bridge false, must be a string' });
  });

  it('takes the MAC from the key, then CNI_ARGS MAC, then runtimeConfig.mac', () => {
    expect(load({ mac: '0e:00:00:00:00:01' }).mac).toBe('0e:00:00:00:00:01');
    expect(load({ mac: '0e:00:00:00:00:01' }, 'MAC=0e:00:00:00:00:02').mac).toBe('0e:00:00:00:00:02');
    expect(load({ runtimeConfig: { mac: '0E:00:00:00:00:03' } }, 'MAC=0e:00:00:00:00:02').mac).toBe('0e:00:00:00:00:03');
    expect(failure({ mac: '0e:00:00' }).msg).toBe('invalid mac "0e:00:00", must be a MAC address such as "0e:00:00:00:00:01"');
  });
});

describe('tap plugin without a kernel', () => {
  const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(tap, io), options);

  it('succeeds DEL without a namespace and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-tap', conf: base, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('answers STATUS and GC without IPAM', async () => {
    const conf = { ...base, cniVersion: '1.1.0' };
    expect((await run({ command: 'STATUS', conf, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [] }, cniPath: '/x' })).exitCode).toBe(0);
  });
});
