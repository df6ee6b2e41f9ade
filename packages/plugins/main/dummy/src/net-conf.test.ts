// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { CniError, type NetConf } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { dummy } from './index.ts';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'dummy-test', type: 'dummy' };
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(dummy, io), options);

describe('dummy loadConf', () => {
  it('requires an IPAM section with a type, naming it', () => {
    for (const ipam of [undefined, {}, { type: '' }]) {
      let caught: unknown;
      try {
        loadConf({ ...base, ...(ipam === undefined ? {} : { ipam }) } as NetConf);
      } catch (error) {
        caught = error;
      }
      expect(CniError.isInstance(caught)).toBe(true);
      expect((caught as CniError).code).toBe(7);
      expect((caught as CniError).message).toBe('dummy interface requires an IPAM configuration');
      expect((caught as CniError).details).toBe(`ipam: ${JSON.stringify(ipam ?? null)}`);
    }
  });

  it('reads the IPAM type', () => {
    expect(loadConf({ ...base, ipam: { type: 'host-local' } }).ipamType).toBe('host-local');
  });
});

describe('dummy plugin without a kernel', () => {
  it('refuses ADD and CHECK without IPAM before touching anything', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-dummy', conf: base, cniPath: '/x' });
    expect(added.error).toMatchObject({ code: 7, msg: 'dummy interface requires an IPAM configuration' });
    const checked = await run({ command: 'CHECK', netns: '/var/run/netns/absent-dummy', conf: base, cniPath: '/x' });
    expect(checked.error).toMatchObject({ code: 7 });
  });

  it('succeeds DEL without a namespace and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: base, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-dummy', conf: base, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('forwards STATUS and GC to IPAM, failing when it cannot be found', async () => {
    const conf = { ...base, ipam: { type: 'absent-ipam' } };
    expect((await run({ command: 'STATUS', conf, cniPath: '/nonexistent' })).error?.msg).toContain('absent-ipam');
    const gc = await run({ command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [] }, cniPath: '/nonexistent' });
    expect(gc.error?.msg).toContain('absent-ipam');
  });

  it('answers a missing namespace on ADD with code 3', async () => {
    const added = await run({ command: 'ADD', netns: '/var/run/netns/absent-dummy', conf: { ...base, ipam: { type: 'static' } }, cniPath: '/x' });
    expect(added.error?.code).toBe(3);
  });
});
