// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The VM tier runs tests on a small stand-in for vitest: this checks it on the host, on the same
// bundles, so a difference from vitest's semantics shows here rather than in a 20-second VM run.
describe('the VM runner', () => {
  it('runs a bundled test file with vitest semantics and reports counts', () => {
    const script = fileURLToPath(new URL('../vm/run-vm-tier.mjs', import.meta.url));
    const sample = fileURLToPath(new URL('../vm/selftest/shim-sample.vm-selftest.ts', import.meta.url));
    const out = spawnSync(process.execPath, [script, '--host', sample], { encoding: 'utf8', timeout: 30_000 });
    const result = out.stdout.split('\n').find((line) => line.startsWith('CNI-VM-RESULT '));
    expect(out.status, out.stdout + out.stderr).toBe(1);
    expect(JSON.parse(result?.slice('CNI-VM-RESULT '.length) ?? '{}')).toEqual({
      passed: 8,
      failed: 2,
      skipped: 2,
      skippedTests: [
        expect.stringContaining('skipped suite > never runs'),
        expect.stringContaining('concurrency > is skipped'),
      ],
    });
    expect(out.stdout).toContain("AssertionError: expected 1 to be 2");
    expect(out.stdout).toContain('test "times out" timed out in 100ms');
    const events = out.stdout.split('\n').filter((line) => line.startsWith('EVENT ')).map((line) => line.slice(6));
    expect(events.slice(-2).sort()).toEqual(['concurrent finished a', 'concurrent finished b']);
  }, 30_000);
});
