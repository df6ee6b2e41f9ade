#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Prints how many tests passed, failed and were skipped in each tier, and fails when a tier
// failed, did not run, or skipped tests on a machine where it can run.
import { existsSync, readFileSync } from 'node:fs';
import { tierCapability } from './tier-capability.mjs';

const tiers = ['unit', 'kernel', 'fuzz', 'vm', 'e2e', 'lease'];
const rows = [];
const problems = [];
for (const tier of tiers) {
  const file = `.tier-results/${tier}.json`;
  if (!existsSync(file)) {
    rows.push({ tier, passed: 0, failed: 0, skipped: 0, note: 'did not run' });
    problems.push(`${tier}: the tier did not run`);
    continue;
  }
  const result = JSON.parse(readFileSync(file, 'utf8'));
  const capability = tierCapability(tier);
  let note = '';
  if (result.failed > 0 || (result.exitCode ?? 0) !== 0) problems.push(`${tier}: ${result.failed} failed (exit ${result.exitCode})`);
  if (result.skipped > 0) {
    if (tier !== 'unit' && capability.canRun) {
      problems.push(`${tier}: ${result.skipped} skipped on a machine that can run them:\n    ${(result.skippedTests ?? []).join('\n    ')}`);
    } else if (tier !== 'unit') {
      note = `skipped: ${capability.reason || result.reason}`;
    }
  }
  rows.push({ tier, passed: result.passed, failed: result.failed, skipped: result.skipped, note });
}

const total = rows.reduce((sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log('\nTests per tier');
console.log('tier      passed  failed  skipped');
for (const r of rows) {
  console.log(`${r.tier.padEnd(8)} ${String(r.passed).padStart(7)} ${String(r.failed).padStart(7)} ${String(r.skipped).padStart(8)}  ${r.note}`);
}
if (problems.length > 0) {
  console.log('\nThe run fails:');
  for (const p of problems) console.log(`  - ${p}`);
}
// A tier that did not run or skipped what it could run counts as a failure in the closing line too.
const failed = Math.max(total.failed, problems.length);
console.log(`\ntests: ${total.passed} passed, ${failed} failed, ${total.skipped} skipped`);
process.exit(problems.length > 0 ? 1 : 0);
