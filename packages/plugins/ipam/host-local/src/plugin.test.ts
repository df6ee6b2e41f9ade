// SPDX-License-Identifier: Apache-2.0
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPlugin } from '@cni/skel';
import { runInProcess, useTempDir, type PluginRunOptions } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { hostLocal } from './plugin.ts';

const run = (options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(hostLocal, io), { netns: '/run/netns/cnitest-none', cniPath: '/nonexistent', ...options });

async function network(ipam: Record<string, unknown> = {}, cniVersion = '1.1.0') {
  const dataDir = await useTempDir('host-local');
  return {
    dataDir,
    conf: (extra: Record<string, unknown> = {}) => ({
      cniVersion,
      name: 'net',
      type: 'host-local',
      ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/29' }]], ...ipam },
      ...extra,
    }),
  };
}

describe('host-local plugin', () => {
  it('ADD, CHECK, DEL as upstream; DEL of an unknown attachment succeeds', async () => {
    const resolv = join(await useTempDir('resolv'), 'resolv.conf');
    writeFileSync(resolv, '# c\nnameserver 1.1.1.1\nnameserver 8.8.8.8\ndomain d.example\nsearch a b\noptions ndots:2\n');
    const { conf } = await network({ routes: [{ dst: '0.0.0.0/0' }], resolvConf: resolv });
    const add = await run({ command: 'ADD', containerId: 'c1', conf: conf() });
    expect(add.result).toEqual({
      cniVersion: '1.1.0',
      ips: [{ address: '10.1.2.2/29', gateway: '10.1.2.1' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: { nameservers: ['1.1.1.1', '8.8.8.8'], domain: 'd.example', search: ['a', 'b'], options: ['ndots:2'] },
    });
    expect((await run({ command: 'CHECK', containerId: 'c1', conf: conf({ prevResult: add.result }) })).exitCode).toBe(0);
    const other = await run({ command: 'CHECK', containerId: 'c2', conf: conf({ prevResult: add.result }) });
    expect(other.error).toEqual({ code: 999, msg: 'host-local: Failed to find address added by container c2' });
    expect((await run({ command: 'DEL', containerId: 'c1', conf: conf() })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', containerId: 'c1', conf: conf() })).exitCode).toBe(0);
  });

  it('takes requested addresses from CNI_ARGS, args and runtimeConfig', async () => {
    const { conf } = await network({ ranges: [[{ subnet: '10.1.2.0/29' }], [{ subnet: '2001:db8::/120' }]] });
    const add = await run({
      command: 'ADD',
      args: 'IgnoreUnknown=1;IP=10.1.2.5;K8S_POD_NAME=x',
      conf: conf({ runtimeConfig: { ips: ['2001:db8::9/120'] } }),
    });
    expect((add.result as { ips: unknown }).ips).toEqual([
      { address: '10.1.2.5/29', gateway: '10.1.2.1' },
      { address: '2001:db8::9/120', gateway: '2001:db8::1' },
    ]);
    const unknownArgs = await run({ command: 'ADD', args: 'FOO=1', containerId: 'c2', conf: conf() });
    expect(unknownArgs.error?.msg).toBe('ARGS: unknown args ["FOO=1"]');
  });

  it('GC keeps valid attachments (and the older alias) and releases the rest', async () => {
    const { conf } = await network();
    for (const id of ['a', 'b', 'c']) await run({ command: 'ADD', containerId: id, conf: conf() });
    const gc = await run({ command: 'GC', conf: conf({ 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }) });
    expect(gc.exitCode).toBe(0);
    expect((await run({ command: 'CHECK', containerId: 'b', conf: conf({ prevResult: { cniVersion: '1.1.0' } }) })).exitCode).toBe(0);
    expect((await run({ command: 'CHECK', containerId: 'a', conf: conf({ prevResult: { cniVersion: '1.1.0' } }) })).exitCode).toBe(1);
    await run({ command: 'GC', conf: conf({ 'cni.dev/attachments': [] }) });
    expect((await run({ command: 'CHECK', containerId: 'b', conf: conf({ prevResult: { cniVersion: '1.1.0' } }) })).exitCode).toBe(1);
  });

  it('STATUS fails with code 50 while a range set is full', async () => {
    const { conf } = await network({ ranges: [[{ subnet: '10.1.2.0/30' }]] });
    expect((await run({ command: 'STATUS', conf: conf() })).exitCode).toBe(0);
    await run({ command: 'ADD', containerId: 'a', conf: conf() });
    const status = await run({ command: 'STATUS', conf: conf() });
    expect(status.error).toMatchObject({ code: 50, msg: 'no IP addresses available in range set: 10.1.2.1-10.1.2.2' });
  });

  it('prints 0.2.0 and 0.4.0 results', async () => {
    const old = await network({}, '0.2.0');
    expect((await run({ command: 'ADD', conf: old.conf() })).result).toMatchObject({
      cniVersion: '0.2.0',
      ip4: { ip: '10.1.2.2/29', gateway: '10.1.2.1' },
    });
    const v4 = await network({}, '0.4.0');
    expect((await run({ command: 'ADD', conf: v4.conf() })).result).toMatchObject({
      cniVersion: '0.4.0',
      ips: [{ version: '4', address: '10.1.2.2/29', gateway: '10.1.2.1' }],
    });
  });
});
