#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Runs one test tier through vitest and records its counts in .tier-results/<tier>.json,
// which scripts/tier-summary.mjs turns into the per-tier table the test command prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tierCapability } from './tier-capability.mjs';

const tier = process.argv[2];
const extra = process.argv.slice(3);
if (!['unit', 'kernel', 'e2e', 'lease', 'fuzz'].includes(tier)) {
  console.error(`usage: run-tier.mjs unit|kernel|e2e|lease|fuzz [vitest args...]`);
  process.exit(2);
}

mkdirSync('.tier-results', { recursive: true });
const rawFile = `.tier-results/${tier}.vitest.json`;
const capability = tierCapability(tier);

const vitestArgs = ['vitest', 'run', '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${rawFile}`, ...extra];
const env = { ...process.env, CNI_TIER: tier, CNI_TIER_CAN_RUN: capability.canRun ? '1' : '0' };

// The fuzz tier runs plugins in-process, so whatever they make on "the host" is made in the
// test process's own namespace: vitest runs inside a fresh one (one file at a time, since the
// files share it), never in the machine's.
let fuzzNetns;
let argv = ['npx', ...vitestArgs];
if (tier === 'fuzz' && capability.canRun) {
  sweepDeadFuzzNamespaces();
  fuzzNetns = `cnifuzz-host-${process.pid}`;
  spawnSync('ip', ['netns', 'add', fuzzNetns], { stdio: 'inherit' });
  spawnSync('ip', ['-n', fuzzNetns, 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
  argv = ['ip', 'netns', 'exec', fuzzNetns, 'npx', ...vitestArgs, '--no-file-parallelism'];
  env.CNI_FUZZ_NETNS = fuzzNetns;
}
/**
 * The namespaces of fuzz runs that were killed before their cleanup: the tier's host namespace
 * (`cnifuzz-host-<pid>`) and the containers its tests made (`cnifuzz-<pid>-...`), named by the
 * pid of the run-tier process that owned them, are removed when that process is gone.
 */
function sweepDeadFuzzNamespaces() {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const name of listed.split('\n').map((line) => line.split(' ')[0])) {
    const owner = /^cnifuzz-(?:host-)?(\d+)(?:-|$)/.exec(name ?? '')?.[1];
    if (owner === undefined || existsSync(`/proc/${owner}`)) continue;
    spawnSync('ip', ['netns', 'del', name], { stdio: 'inherit' });
  }
}

let run;
try {
  run = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env });
} finally {
  if (fuzzNetns) spawnSync('ip', ['netns', 'del', fuzzNetns], { stdio: 'inherit' });
}

let counts = { passed: 0, failed: 0, skipped: 0, skippedTests: [] };
if (existsSync(rawFile)) {
  const report = JSON.parse(readFileSync(rawFile, 'utf8'));
  counts.passed = report.numPassedTests ?? 0;
  counts.failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  counts.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    // A file that failed to load has no assertions but is a failure all the same.
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) counts.failed += 1;
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') {
        counts.skippedTests.push(`${file.name.replace(process.cwd() + '/', '')}: ${test.fullName}`);
      }
    }
  }
}
const status = run.status ?? 1;
if (status !== 0 && counts.failed === 0) counts.failed = 1; // vitest failed outside a test (config, import)
writeFileSync(`.tier-results/${tier}.json`, JSON.stringify({ tier, ...counts, canRun: capability.canRun, reason: capability.reason, exitCode: status }, null, 2));
process.exit(status);
