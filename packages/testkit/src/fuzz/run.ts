// SPDX-License-Identifier: Apache-2.0
// Runs a plugin's fuzz cases and checks the three rules of bad input: every answer is a CNI error
// JSON or a result (nothing thrown past skel, nothing else printed); a successful ADD is undone by
// its DEL; and nothing is left behind, in the namespaces or the folders, by a failed ADD or by an
// ADD and its DEL. The leak check (iproute2, tc, nft, iptables-save, the folders' files) runs once
// per batch of cases, because one snapshot costs a score of processes; a batch that leaks is
// replayed case by case to name the culprit.
import { writeSync } from 'node:fs';
import type { PluginRunResult } from '../plugin.ts';
import { findLeaks, takeSnapshot, type LeakOptions, type SnapshotOptions, type StateSnapshot } from '../snapshot.ts';
import type { FuzzCase } from './mutate.ts';

/** A plugin under fuzzing: how to run a case, undo it, and what state to watch. */
export interface FuzzTarget {
  /** The plugin's name, for reports. */
  readonly name: string;
  /** The seed the cases were made with, printed with every problem. */
  readonly seed: number;
  readonly cases: readonly FuzzCase[];
  /** ADD with the case's configuration and variables. */
  add(fuzzCase: FuzzCase): Promise<PluginRunResult>;
  /** DEL of an ADD that succeeded, with its result as prevResult. */
  del(fuzzCase: FuzzCase, result: unknown): Promise<PluginRunResult>;
  /** What the leak check compares: namespaces (null: this process's own) and folders. */
  readonly watch: SnapshotOptions;
  /** State the plugin keeps on purpose across attachments (a bridge, shared chains, the store's lock). */
  readonly leakOptions?: LeakOptions;
  /** A problem with a successful result, or undefined (e.g. it does not parse as its version's result). */
  checkResult?(result: unknown, fuzzCase: FuzzCase): string | undefined;
  /** Cases per leak check. Default 60; 1 checks after every case. */
  readonly batch?: number;
  /** How long an ADD may take before it counts as hung. Default 30 s. */
  readonly caseTimeoutMs?: number;
}

/** One case's outcome. */
export interface FuzzOutcome {
  readonly fuzzCase: FuzzCase;
  /** `refused` with the CNI error's code, or `accepted` with the result. */
  readonly verdict: 'accepted' | 'refused';
  readonly code?: number;
  readonly msg?: string;
  readonly result?: unknown;
}

/** What {@link runFuzzTarget} found. */
export interface FuzzReport {
  readonly name: string;
  readonly seed: number;
  readonly outcomes: readonly FuzzOutcome[];
  /** Broken rules, one line each, naming the case; empty when the plugin holds. */
  readonly problems: readonly string[];
  readonly ms: number;
}

/** How many cases of a leaking batch are replayed one by one. */
const REPLAY_LIMIT = 20;

/** The promise's value, or a rejection naming the deadline: a plugin that never answers is a finding, not a hung tier. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describeRun(run: PluginRunResult): string {
  const out = run.stdout.trim() || run.stderr.trim();
  return `exit ${String(run.exitCode)}: ${out.length > 300 ? `${out.slice(0, 297)}...` : out}`;
}

async function runCase(target: FuzzTarget, fuzzCase: FuzzCase, problems: string[]): Promise<FuzzOutcome | undefined> {
  const where = `${target.name} [seed ${target.seed}] ${fuzzCase.label}`;
  // A case that never returns (a loop) leaves no report: CNI_FUZZ_TRACE=1 names each before it runs.
  const trace = process.env['CNI_FUZZ_TRACE'] === '1';
  if (trace) writeSync(2, `fuzz: ${where}\n`);
  let run: PluginRunResult;
  try {
    const started = performance.now();
    run = await withDeadline(target.add(fuzzCase), target.caseTimeoutMs ?? 30_000);
    // And how long its ADD took, to find the cases that make a target slow.
    if (trace) writeSync(2, `fuzz:   ADD exit ${String(run.exitCode)} in ${Math.round(performance.now() - started)} ms\n`);
  } catch (error) {
    problems.push(`${where}: ADD threw past skel: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return undefined;
  }
  if (run.exitCode === 0) {
    if (typeof run.result !== 'object' || run.result === null) {
      problems.push(`${where}: ADD succeeded without a result: ${describeRun(run)}`);
      return undefined;
    }
    const bad = target.checkResult?.(run.result, fuzzCase);
    if (bad !== undefined) problems.push(`${where}: ADD printed an invalid result: ${bad}`);
    let del: PluginRunResult;
    try {
      del = await target.del(fuzzCase, run.result);
    } catch (error) {
      problems.push(`${where}: DEL threw past skel: ${error instanceof Error ? error.message : String(error)}`);
      return { fuzzCase, verdict: 'accepted', result: run.result };
    }
    if (del.exitCode !== 0) problems.push(`${where}: DEL of a successful ADD failed: ${describeRun(del)}`);
    return { fuzzCase, verdict: 'accepted', result: run.result };
  }
  const error = run.error;
  if (run.exitCode !== 1 || error === undefined || !Number.isInteger(error.code) || typeof error.msg !== 'string' || error.msg === '') {
    problems.push(`${where}: ADD failed without a CNI error: ${describeRun(run)}`);
    return undefined;
  }
  return { fuzzCase, verdict: 'refused', code: error.code, msg: error.msg };
}

/**
 * Run every case of `target`, checking the rules of bad input, and report what broke them. It
 * throws only when the harness itself fails (a snapshot that cannot be read).
 *
 * @example
 * ```ts
 * const report = await runFuzzTarget(target);
 * expect(report.problems).toEqual([]);
 * ```
 */
export async function runFuzzTarget(target: FuzzTarget): Promise<FuzzReport> {
  const started = Date.now();
  const problems: string[] = [];
  const outcomes: FuzzOutcome[] = [];
  const batch = Math.max(1, target.batch ?? 60);
  let baseline: StateSnapshot = await takeSnapshot(target.watch);
  for (let start = 0; start < target.cases.length; start += batch) {
    const cases = target.cases.slice(start, start + batch);
    for (const fuzzCase of cases) {
      const outcome = await runCase(target, fuzzCase, problems);
      if (outcome) outcomes.push(outcome);
    }
    const leaks = await findLeaks(baseline, target.leakOptions);
    if (leaks.length === 0) continue;
    if (cases.length === 1) {
      problems.push(`${target.name} [seed ${target.seed}] ${cases[0]!.label}: left behind: ${leaks.join('; ')}`);
    } else {
      // Replay the batch a case at a time from the state it left, to name what leaks (the first
      // cases only: two snapshots a case are slow, and the leak lines already say what was left).
      const culprits: string[] = [];
      for (const fuzzCase of cases.slice(0, REPLAY_LIMIT)) {
        const before = await takeSnapshot(target.watch);
        await runCase(target, fuzzCase, []);
        const more = await findLeaks(before, target.leakOptions);
        if (more.length > 0) culprits.push(`${fuzzCase.label}: ${more.join('; ')}`);
      }
      problems.push(
        `${target.name} [seed ${target.seed}] a batch of ${cases.length} cases left behind: ${leaks.join('; ')}` +
          (culprits.length > 0 ? `\n    replayed one by one: ${culprits.join('\n    ')}` : ' (no single case leaks when replayed)'),
      );
    }
    baseline = await takeSnapshot(target.watch);
  }
  return { name: target.name, seed: target.seed, outcomes, problems, ms: Date.now() - started };
}
