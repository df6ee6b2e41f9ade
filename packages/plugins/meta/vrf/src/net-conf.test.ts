// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { CniError, type NetConf } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { vrf } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'vrf-test', type: 'vrf', vrfname: 'blue' };
const failure = (extra: Record<string, unknown>) => {
  try {
    loadConf({ ...base, ...extra } as NetConf);
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('loadConf accepted the configuration');
};
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(vrf, io), options);

describe('vrf loadConf', () => {
  it('reads vrfname and table, 0 (pick one) by default', () => {
    expect(loadConf(base as NetConf)).toMatchObject({ vrfname: 'blue', table: 0 });
    expect(loadConf({ ...base, table: 4294967295 } as NetConf).table).toBe(4294967295);
  });

  it('refuses a missing or bad vrfname and a bad table, naming them', () => {
    expect(failure({ vrfname: undefined })).toEqual({ code: 7, msg: 'configuration is expected to have a valid vrf name' });
    expect(failure({ vrfname: '' }).code).toBe(7);
    expect(failure({ vrfname: 3 })).toEqual({ code: 7, msg: 'invalid vrfname 3, must be a string' });
    expect(failure({ vrfname: 'a-name-far-too-long' }).msg).toBe(
      'invalid vrfname "a-name-far-too-long", must be a link name (1 to 15 bytes, no "/", ":" or spaces)',
    );
    expect(failure({ table: -1 })).toEqual({ code: 7, msg: 'invalid table -1, must be an integer in [0, 4294967295]' });
    expect(failure({ table: '10' }).code).toBe(7);
  });
});

describe('vrf plugin without a kernel', () => {
  it('refuses ADD without prevResult, and versions before 0.3.1, before touching anything', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-vrf', conf: base, cniPath: '/x' });
    expect(added.error).toMatchObject({ code: 7, msg: 'missing prevResult from earlier plugin' });
    const old = await run({ command: 'ADD', netns: '/var/run/netns/absent-vrf', conf: { ...base, cniVersion: '0.3.0' }, cniPath: '/x' });
    expect(old.error?.code).toBe(1);
  });

  it('succeeds DEL without a namespace and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-vrf', conf: base, cniPath: '/x' })).exitCode).toBe(0);
  });
});
