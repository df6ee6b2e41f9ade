// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { loopback } from './index.ts';

// Paths that do not exist: these requests fail (or succeed) before any namespace is entered.
const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(loopback, io), options);
const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'lo-test', type: 'loopback', ...extra });

describe('loopback', () => {
  it('refuses ADD in a namespace that does not exist with code 3', async () => {
    const r = await run({ command: 'ADD', netns: '/var/run/netns/absent-loopback', conf: conf('1.0.0'), cniPath: '/x' });
    expect(r.error).toEqual({ code: 3, msg: 'failed to open netns "/var/run/netns/absent-loopback": no such file or directory' });
  });

  it('succeeds DEL without a namespace, and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: conf('1.0.0'), cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-loopback', conf: conf('1.0.0'), cniPath: '/x' })).exitCode).toBe(0);
  });

  it('refuses a prevResult that does not parse', async () => {
    const r = await run({ command: 'ADD', netns: '/var/run/netns/absent-loopback', conf: conf('1.0.0', { prevResult: { ips: 'x' } }), cniPath: '/x' });
    expect(r.error?.code).toBe(7);
  });

  it('answers GC and STATUS with success: it keeps nothing on the host', async () => {
    expect((await run({ command: 'GC', conf: conf('1.1.0', { 'cni.dev/valid-attachments': [] }), cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'STATUS', conf: conf('1.1.0'), cniPath: '/x' })).exitCode).toBe(0);
  });
});
