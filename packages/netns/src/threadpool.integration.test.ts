// SPDX-License-Identifier: Apache-2.0
// libuv starts its thread pool on first use, and threads are born in the namespace of the thread
// that creates them. In a CommonJS process (a bundled plugin executable) nothing has used the pool
// before the first withNetns, so this runs in a fresh process built from the sources: the pool's
// first job is queued inside withNetns, and must still run in the original namespace.
// /proc/thread-self/net/dev is the oracle: it shows the namespace of the thread that reads it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ip, makeIpNetns } from './testing/ip-netns.ts';

const here = dirname(fileURLToPath(import.meta.url));

const devices = (text: string) =>
  text
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((line) => line.split(':')[0]!.trim())
    .sort();

describe.skipIf(process.getuid?.() !== 0)('the thread pool and withNetns', () => {
  it('stays in the original namespace when first used inside withNetns', async () => {
    const name = makeIpNetns();
    ip('-n', name, 'link', 'add', 'pool0', 'type', 'veth', 'peer', 'name', 'pool1');
    const dir = mkdtempSync(join(tmpdir(), 'cni-netns-pool-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await build({
      entryPoints: [join(here, 'index.ts')],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      conditions: ['@cni/source'],
      external: ['ffi-rs'],
      outfile: join(dir, 'netns.cjs'),
      logLevel: 'error',
    });
    const script = `
      const { withNetns } = require('./netns.cjs');
      const { readFile } = require('node:fs/promises');
      let inside;
      withNetns(${JSON.stringify(`/var/run/netns/${name}`)}, () => { inside = readFile('/proc/thread-self/net/dev', 'utf8'); });
      inside.then((text) => process.stdout.write(text));
    `;
    const output = execFileSync(process.execPath, ['-e', script], {
      cwd: dir,
      encoding: 'utf8',
      // The bundle leaves ffi-rs outside; @cni/sys's own node_modules has it.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: join(here, '../../sys/node_modules') },
    });
    const host = devices(readFileSync('/proc/thread-self/net/dev', 'utf8'));
    expect(host).not.toContain('pool0');
    expect(devices(output)).toEqual(host);
  });
});
