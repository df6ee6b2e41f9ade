#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Every benchmark of the repository, one after another, each in a process of its own:
//
//   pnpm bench                                  # builds, then all of them (about 10 minutes, root)
//   node bench/run.mjs [netlink|netns|startup|ipam|compare|resident|multinet|dhcp|calico ...]
//
// BENCH_RUNS (default 30) and BENCH_PODS (default 500) set the repetitions of compare and multinet and
// the pods of compare's growth test. Each benchmark cleans up after itself; a Ctrl-C stops the run after
// the current one has cleaned up.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

// netlink's figure is a rate, as stable with 400 veth pairs as with 1000, and keeps the whole run near
// 10 minutes on a 2-core machine.
const BENCHMARKS = {
  netlink: ['bench/netlink/bench.mjs', '400', '3'],
  netns: ['packages/netns/bench/startup.mjs'],
  startup: ['bench/startup/bench.mjs'],
  ipam: ['bench/ipam/bench.mjs'],
  compare: ['bench/compare/bench.mjs'],
  resident: ['bench/resident/bench.mjs'],
  multinet: ['bench/multinet/bench.mjs'],
  dhcp: ['bench/dhcp/bench.mjs'],
  calico: ['bench/calico/bench.mjs'],
};

const chosen = process.argv.slice(2);
for (const name of chosen) {
  if (!(name in BENCHMARKS)) {
    console.error(`bench/run: no benchmark "${name}" (one of ${Object.keys(BENCHMARKS).join(', ')})`);
    process.exit(2);
  }
}

let interrupted = false;
// The benchmark gets the Ctrl-C itself (same process group) and cleans up; this waits for it.
process.on('SIGINT', () => (interrupted = true));
process.on('SIGTERM', () => (interrupted = true));

const failed = [];
const started = performance.now();
for (const name of chosen.length > 0 ? chosen : Object.keys(BENCHMARKS)) {
  if (interrupted) break;
  const [script, ...args] = BENCHMARKS[name];
  // A benchmark another change brings may not be in this tree yet.
  if (!existsSync(join(root, script))) {
    console.log(`\n=== ${name}: skipped (${script} is not here)`);
    continue;
  }
  console.log(`\n=== ${name}: node ${script} ${args.join(' ')}`.trimEnd());
  const t0 = performance.now();
  const status = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, stdio: 'inherit' });
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
  console.log(`=== ${name}: ${status === 0 ? 'done' : `failed (exit ${status})`} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (status !== 0) failed.push(name);
}
console.log(`\nbench: ${((performance.now() - started) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}${interrupted ? ' (interrupted)' : ''}`);
process.exitCode = interrupted ? 130 : failed.length > 0 ? 1 : 0;
