// SPDX-License-Identifier: Apache-2.0
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badRequests, CNI_PATH, NETNS, type BadRequest } from './bad-requests.fixture.ts';

const binDir = new URL('../dist/bin/', import.meta.url).pathname;
const sampleBin = join(binDir, 'sample');
/** Debian's reference: tuning is a chained plugin too, and parses CNI_ARGS with LoadArgs. */
const referenceBin = '/usr/lib/cni/tuning';
const isRoot = process.getuid?.() === 0;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A minimal runtime-side runner (testkit's execPlugin builds complete environments; these rows
 * need exact ones): only the given CNI variables and PATH, the configuration on stdin.
 */
function execute(file: string, env: Record<string, string>, stdin: Uint8Array): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // A plugin that stops reading an oversized stdin closes the pipe: expected.
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(stdin);
  });
}

let dir: string;
let netnsPath: string;
let netnsName: string | undefined;

beforeAll(() => {
  if (!existsSync(sampleBin)) throw new Error(`"${sampleBin}" is missing: run \`pnpm build\` in apps/cni-bundle first`);
  dir = mkdtempSync(join(tmpdir(), 'bad-requests-e2e-'));
  if (isRoot) {
    // A real namespace, as a runtime would pass; it lives only for this file.
    netnsName = `cni-bad-requests-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', netnsName]);
    if (add.status !== 0) throw new Error(`failed to add netns "${netnsName}": ${add.stderr}`);
    netnsPath = `/var/run/netns/${netnsName}`;
  } else {
    netnsPath = join(dir, 'netns');
    writeFileSync(netnsPath, '');
  }
});

afterAll(() => {
  if (netnsName) spawnSync('ip', ['netns', 'delete', netnsName]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function envOf(row: BadRequest, cniPath: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(row.env).map(([key, value]) => [key, value === NETNS ? netnsPath : value === CNI_PATH ? cniPath : value]),
  );
}

function stdinOf(row: BadRequest): Uint8Array {
  return typeof row.stdin === 'string' ? Buffer.from(row.stdin) : new Uint8Array(row.stdin.bytes).fill(0x20);
}

function errorOf(outcome: Outcome): { code: number; msg: string } {
  try {
    return JSON.parse(outcome.stdout) as { code: number; msg: string };
  } catch {
    throw new Error(`not an error JSON (status ${outcome.status}): ${JSON.stringify(outcome.stdout)} stderr ${JSON.stringify(outcome.stderr)}`);
  }
}

describe('bad requests, to the built dist/bin/sample as a runtime sends them', () => {
  it.each(badRequests.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const outcome = await execute(sampleBin, envOf(row, binDir), stdinOf(row));
    if (row.code === 0) {
      expect(outcome).toMatchObject({ status: 0, stdout: '' });
      expect(outcome.stderr).toMatch(/^CNI sample plugin v\d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+\)\nCNI protocol versions supported: 0\.1\.0, /);
      return;
    }
    expect(outcome.status).toBe(1);
    // Upstream prints the error without a trailing newline, 4-space indented.
    expect(outcome.stdout).toMatch(/^\{\n {4}"code": \d+,\n {4}"msg": [^\n]*\n(?: {4}"details": [^\n]*\n)?\}$/);
    const error = errorOf(outcome);
    expect(error.code, error.msg).toBe(row.code);
    if (typeof row.msg === 'string') expect(error.msg).toBe(row.msg);
    else if (row.msg) expect(error.msg).toMatch(row.msg);
  });
});

const agreed = badRequests.filter((row) => row.reference.agrees);

describe.skipIf(!existsSync(referenceBin))(`bad requests where Debian's reference agrees (${referenceBin})`, () => {
  it('covers the skel rules of section 4 (codes 4, 6, 7, 1, 999 and the about text)', () => {
    expect(new Set(agreed.map((row) => row.code))).toEqual(new Set([0, 1, 4, 6, 7, 999]));
  });

  it.each(agreed.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const stdin = stdinOf(row);
    const [ours, reference] = await Promise.all([
      execute(sampleBin, envOf(row, binDir), stdin),
      execute(referenceBin, envOf(row, '/usr/lib/cni'), stdin),
    ]);
    expect(reference.status, `reference stdout: ${reference.stdout}`).toBe(ours.status);
    if (row.code === 0) {
      expect(reference.stdout).toBe('');
      return;
    }
    const mine = errorOf(ours);
    const theirs = errorOf(reference);
    expect(theirs.code, theirs.msg).toBe(mine.code);
    if (row.reference.agrees && row.reference.sameText) expect(mine.msg).toBe(theirs.msg);
  });
});
