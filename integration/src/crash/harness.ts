// SPDX-License-Identifier: Apache-2.0
// Crash trials of the built executables, shared by the host scenarios (crash.e2e.test.ts) and the
// ones that need the VM tier's kernel (crash.vm.test.ts): an attachment's ADD is killed (SIGKILL)
// at a random moment of its life, then the runtime's DEL runs, and nothing may be left: no link,
// address, route, rule, qdisc, nft table, iptables chain or rule, lease or file. Chains too: a kill
// anywhere in the list, then DEL of the whole list in reverse, as libcni does after a failed ADD
// (no cached result, so no prevResult).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { execPlugin, findLeaks, pluginEnv, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { expect } from 'vitest';

/** One plugin of an attachment: its type and configuration (the list's name and version are added). */
export interface Step {
  type: string;
  conf: Record<string, unknown>;
}

/** One attachment to crash, and what it needs made first. */
export interface Scenario {
  name: string;
  /** Makes what the configuration needs in the test's host namespace (or its folder). */
  setup?(netns: TestNetns): Promise<void>;
  steps(netns: TestNetns): Step[];
  /** CNI_ARGS of every request (multinet's pod). */
  args?: string;
}

/** How to run the trials: where the executables are, how many, from which seed. */
export interface CrashOptions {
  bundle: string;
  trials: number;
  seed: number;
  /**
   * ADD and DEL runs before the trials, the last one timing the ADD (default 1). Under the VM's
   * emulation the first run is much slower than the ones after it (cold caches), and moments of
   * death drawn from it fall after most ADDs have ended.
   */
  probes?: number;
}

/** host-local in the test's folder, with a default route. */
export const hostLocal = (netns: TestNetns, subnet: string) => ({ type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] });

/** A seeded generator of numbers in [0, 1) (mulberry32), so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function requestOf(bundle: string, netns: TestNetns, scenario: Scenario, step: Step, command: 'ADD' | 'DEL', containerId: string, prevResult?: unknown): PluginRunOptions {
  const conf = { cniVersion: '1.0.0', name: 'crash', type: step.type, ...step.conf, ...(prevResult === undefined ? {} : { prevResult }) };
  return { command, containerId, netns: netns.container, ifName: 'eth0', cniPath: bundle, hostNetns: netns.host, conf, ...(scenario.args ? { args: scenario.args } : {}) };
}

/** ADD of the whole list, each plugin given the previous result; the time each took. */
async function addAll(options: CrashOptions, netns: TestNetns, scenario: Scenario, steps: Step[], containerId: string): Promise<number[]> {
  const times: number[] = [];
  let prev: unknown;
  for (const step of steps) {
    const started = performance.now();
    const out = await execPlugin(join(options.bundle, step.type), requestOf(options.bundle, netns, scenario, step, 'ADD', containerId, prev));
    times.push(performance.now() - started);
    expect(out.error, `${step.type} ADD`).toBeUndefined();
    prev = out.result;
  }
  return times;
}

/** DEL of the whole list in reverse, without prevResult (the runtime has no cached result of a failed ADD). */
async function delAll(options: CrashOptions, netns: TestNetns, scenario: Scenario, steps: Step[], containerId: string): Promise<void> {
  for (const step of [...steps].reverse()) {
    const out = await execPlugin(join(options.bundle, step.type), requestOf(options.bundle, netns, scenario, step, 'DEL', containerId));
    expect(out.exitCode, `${step.type} DEL after a killed ADD: ${out.stdout}${out.stderr}`).toBe(0);
  }
}

/** Runs one plugin's ADD and kills it with SIGKILL after `delayMs`; resolves with its exit code (null when killed). */
function addKilled(options: CrashOptions, netns: TestNetns, scenario: Scenario, step: Step, containerId: string, prevResult: unknown, delayMs: number): Promise<number | null> {
  const request = requestOf(options.bundle, netns, scenario, step, 'ADD', containerId, prevResult);
  return new Promise((resolve) => {
    // `ip netns exec` execs the plugin in its own process: the pid is the plugin's.
    const child = spawn('ip', ['netns', 'exec', netns.host.name, join(options.bundle, step.type)], { env: pluginEnv(request), stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(request.conf));
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * Runs `options.trials` crash trials of `scenario` in `netns` and fails the test on the first
 * leak, naming the trial, the seed and the moment of death. Returns how many ADDs were killed
 * (the others ended before their moment came, which is part of the draw).
 */
export async function runCrashTrials(options: CrashOptions, netns: TestNetns, scenario: Scenario): Promise<{ killed: number; addMs: number }> {
  await scenario.setup?.(netns);
  const steps = scenario.steps(netns);
  // One ADD and DEL first: what the plugins keep on purpose (the bridge, portmap's shared
  // chains, the store's lock) exists before the snapshot, and the ADD's duration is known.
  let durations: number[] = [];
  for (let probe = 0; probe < (options.probes ?? 1); probe++) {
    durations = await addAll(options, netns, scenario, steps, 'probe');
    await delAll(options, netns, scenario, steps, 'probe');
  }
  const before = await netns.snapshot([netns.dir]);
  const total = durations.reduce((a, b) => a + b, 0);
  const random = prng(options.seed + scenario.name.length);
  let killed = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    const id = `crash${trial}`;
    // The moment of death: a random point of the whole list's ADD.
    let at = random() * total * 1.1;
    let prev: unknown;
    for (const [index, step] of steps.entries()) {
      const duration = durations[index]!;
      if (at > duration) {
        const out = await execPlugin(join(options.bundle, step.type), requestOf(options.bundle, netns, scenario, step, 'ADD', id, prev));
        if (out.exitCode !== 0) break;
        prev = out.result;
        at -= duration;
        continue;
      }
      if ((await addKilled(options, netns, scenario, step, id, prev, Math.max(1, Math.round(at)))) === null) killed++;
      break;
    }
    await delAll(options, netns, scenario, steps, id);
    const leaks = await findLeaks(before);
    // The leaks in the message too: the VM tier's runner prints no diff.
    expect(leaks, `${scenario.name} trial ${trial} (seed ${options.seed}): killed ${Math.round(at)} ms into a step, left ${leaks.join('; ')}`).toEqual([]);
  }
  return { killed, addMs: total };
}
