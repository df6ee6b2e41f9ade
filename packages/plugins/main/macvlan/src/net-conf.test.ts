// SPDX-License-Identifier: Apache-2.0
import { loadArgs, runPlugin } from '@cni/skel';
import { CniError } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { macvlan } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.0.0', name: 'mv-test', type: 'macvlan' };
const load = (extra: Record<string, unknown>, args = '') =>
  loadConf({ conf: { ...base, ...extra }, loadArgs: (schema) => loadArgs(args, schema) });
const failure = (extra: Record<string, unknown>, args = '') => {
  try {
    load(extra, args);
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('loadConf accepted the configuration');
};

describe('macvlan loadConf', () => {
  it('applies upstream defaults', () => {
    const conf = load({});
    expect(conf).toMatchObject({ master: '', mode: 'bridge', mtu: 0, mac: undefined, linkInContainer: false, bcqueuelen: 0, ipamType: '' });
  });

  it.each(['bridge', 'private', 'vepa', 'passthru'])('accepts mode %s', (mode) => {
    expect(load({ mode }).mode).toBe(mode);
  });

  it('reads an empty mode as bridge, as upstream', () => {
    expect(load({ mode: '' }).mode).toBe('bridge');
  });

  it('refuses an unknown mode with upstream text', () => {
    expect(failure({ mode: 'source' })).toEqual({ code: 999, msg: 'unknown macvlan mode: "source"' });
    expect(failure({ mode: 'foo' })).toEqual({ code: 999, msg: 'unknown macvlan mode: "foo"' });
  });

  it('refuses keys of the wrong type, naming key and value', () => {
    expect(failure({ master: 7 })).toEqual({ code: 7, msg: 'invalid master 7, must be a string' });
    expect(failure({ mtu: '1500' })).toEqual({ code: 7, msg: 'invalid mtu "1500", must be an integer in [0, master MTU]' });
    expect(failure({ mtu: 1.5 })).toEqual({ code: 7, msg: 'invalid mtu 1.5, must be an integer in [0, master MTU]' });
    expect(failure({ mtu: -1 })).toEqual({ code: 7, msg: 'invalid mtu -1, must be an integer in [0, master MTU]' });
    expect(failure({ linkInContainer: 'yes' })).toEqual({ code: 7, msg: 'invalid linkInContainer "yes", must be a boolean' });
    expect(failure({ bcqueuelen: -1 })).toEqual({ code: 7, msg: 'invalid bcqueuelen -1, must be an integer in [0, 4294967295]' });
    expect(failure({ bcqueuelen: 2 ** 32 })).toEqual({ code: 7, msg: 'invalid bcqueuelen 4294967296, must be an integer in [0, 4294967295]' });
    expect(failure({ mac: 'zz' }).msg).toBe('invalid mac "zz", must be a MAC address such as "0e:00:00:00:00:01"');
  });

  it('takes the MAC from the key, then CNI_ARGS MAC, then runtimeConfig.mac', () => {
    expect(load({ mac: '0E:00:00:00:00:01' }).mac).toBe('0e:00:00:00:00:01');
    expect(load({ mac: '0e:00:00:00:00:01' }, 'IgnoreUnknown=1;MAC=0e:00:00:00:00:02').mac).toBe('0e:00:00:00:00:02');
    expect(load({ mac: '0e:00:00:00:00:01', runtimeConfig: { mac: '0e:00:00:00:00:03' } }, 'MAC=0e:00:00:00:00:02').mac).toBe('0e:00:00:00:00:03');
    expect(failure({}, 'MAC=nope').msg).toBe('invalid CNI_ARGS MAC "nope", must be a MAC address such as "0e:00:00:00:00:01"');
    expect(failure({ runtimeConfig: { mac: 5 } }).msg).toBe('invalid runtimeConfig.mac 5, must be a string');
  });

  it('refuses unknown CNI_ARGS without IgnoreUnknown, as upstream LoadArgs', () => {
    expect(failure({}, 'FOO=1').code).toBe(999);
  });

  it('reads the remaining keys', () => {
    expect(load({ master: 'eth1', mtu: 1400, linkInContainer: true, bcqueuelen: 100, ipam: { type: 'host-local' } })).toMatchObject({
      master: 'eth1',
      mtu: 1400,
      linkInContainer: true,
      bcqueuelen: 100,
      ipamType: 'host-local',
    });
  });
});

describe('macvlan plugin without a kernel', () => {
  const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(macvlan, io), options);

  it('succeeds DEL without a namespace and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-macvlan', conf: base, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('succeeds DEL with a configuration ADD would refuse (plain JSON, as upstream v1.4+)', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: { ...base, mode: 'nope', master: 'gone0' }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('answers STATUS and GC without IPAM with success', async () => {
    const conf = { ...base, cniVersion: '1.1.0' };
    expect((await run({ command: 'STATUS', conf, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [] }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('forwards STATUS to IPAM, failing when it cannot be found', async () => {
    const r = await run({ command: 'STATUS', conf: { ...base, cniVersion: '1.1.0', ipam: { type: 'absent-ipam' } }, cniPath: '/nonexistent' });
    expect(r.error?.msg).toContain('absent-ipam');
  });
});
