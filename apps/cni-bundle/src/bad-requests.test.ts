// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '@cni/skel';
import { afterAll, describe, expect, it } from 'vitest';
import { badRequests, CNI_PATH, NETNS, type BadRequest } from './bad-requests.fixture.ts';
import { plugins } from './plugins.ts';

// The sample only checks that CNI_NETNS exists: a plain file stands in for a namespace here.
const dir = mkdtempSync(join(tmpdir(), 'bad-requests-'));
const fakeNetns = join(dir, 'netns');
writeFileSync(fakeNetns, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stdinOf(row: BadRequest): Uint8Array | string {
  return typeof row.stdin === 'string' ? row.stdin : new Uint8Array(row.stdin.bytes).fill(0x20);
}

describe('bad requests, in-process through runPlugin', () => {
  it('has at least 40 rows', () => {
    expect(badRequests.length).toBeGreaterThanOrEqual(40);
  });

  it.each(badRequests.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const env = Object.fromEntries(
      Object.entries(row.env).map(([key, value]) => [key, value === NETNS ? fakeNetns : value === CNI_PATH ? '/nonexistent' : value]),
    );
    let stdout = '';
    let stderr = '';
    const code = await runPlugin(plugins.sample, {
      env,
      stdin: stdinOf(row),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    });
    if (row.code === 0) {
      expect({ code, stdout }).toEqual({ code: 0, stdout: '' });
      expect(stderr).toMatch(/^CNI sample plugin /);
      return;
    }
    expect(code).toBe(1);
    const error = JSON.parse(stdout) as { code: number; msg: string };
    expect(error.code, error.msg).toBe(row.code);
    if (typeof row.msg === 'string') expect(error.msg).toBe(row.msg);
    else if (row.msg) expect(error.msg).toMatch(row.msg);
  });
});
