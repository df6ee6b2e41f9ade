// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import * as skel from '@cni/skel';
import { describe, expect, it } from 'vitest';
import { sample } from './index.ts';

describe('README', () => {
  it('runs its in-process example as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const body = code.replace(/^import [\s\S]*?;$/gm, '');
    let stdout = '';
    const fakeProcess = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => {} } };
    // The example's CNI_NETNS stands for a namespace the runtime made; override the netns check
    // and point it at one that exists here.
    const patched = body.replace("'/var/run/netns/c1'", "'/proc/self/ns/net', CNI_NETNS_OVERRIDE: '1'");
    const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;
    await new AsyncFunction('runPlugin', 'sample', 'process', `${patched}\nreturn code;`)(skel.runPlugin, sample, fakeProcess);
    expect(JSON.parse(stdout)).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }] });
  });
});
