// SPDX-License-Identifier: Apache-2.0
// Crash safety of every plugin that creates something: the built executable's ADD is killed
// (SIGKILL) at a random moment of its life, then the runtime's DEL runs, and nothing may be left:
// no link, address, route, rule, qdisc, nft table, iptables chain or rule, lease or file. Chains
// too: a kill anywhere in bridge -> tuning -> portmap -> bandwidth, then DEL of the whole list in
// reverse, as libcni does after a failed ADD (no cached result, so no prevResult).
// CNI_CRASH_SEED changes the seed (printed with every failure), CNI_CRASH_TRIALS the trials.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin, findLeaks, pluginEnv, run, useTestNetns, type PluginRunOptions, type TestNetns } from '@cni/testkit';
import { describe, expect, it } from 'vitest';

const BUNDLE = process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../apps/cni-bundle/dist/bin', import.meta.url));
const SEED = Number(process.env['CNI_CRASH_SEED'] ?? 22);
const TRIALS = Number(process.env['CNI_CRASH_TRIALS'] ?? 8);

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

/** One plugin of an attachment: its type and configuration (the list's name and version are added). */
interface Step {
  type: string;
  conf: Record<string, unknown>;
}

interface Scenario {
  name: string;
  /** Makes what the configuration needs in the test's host namespace. */
  setup?(netns: TestNetns): Promise<void>;
  steps(netns: TestNetns): Step[];
}

const hostLocal = (netns: TestNetns, subnet: string) => ({ type: 'host-local', dataDir: netns.dir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] });

const SCENARIOS: Scenario[] = [
  { name: 'bridge', steps: (netns) => [{ type: 'bridge', conf: { bridge: 'crbr0', isGateway: true, ipMasq: true, ipam: hostLocal(netns, '10.61.0.0/24') } }] },
  { name: 'ptp', steps: (netns) => [{ type: 'ptp', conf: { ipMasq: true, ipam: hostLocal(netns, '10.62.0.0/24') } }] },
  { name: 'macvlan', steps: (netns) => [{ type: 'macvlan', conf: { master: 'uplink0', mode: 'bridge', ipam: hostLocal(netns, '10.63.0.0/24') } }] },
  { name: 'tap', steps: (netns) => [{ type: 'tap', conf: { mtu: 1400, ipam: hostLocal(netns, '10.64.0.0/24') } }] },
  {
    name: 'host-device',
    setup: async (netns) => {
      await run(['ip', '-n', netns.host.name, 'link', 'add', 'crdev0', 'type', 'veth', 'peer', 'name', 'crdev0p']);
    },
    steps: () => [{ type: 'host-device', conf: { device: 'crdev0', ipam: { type: 'static', addresses: [{ address: '10.65.0.2/24' }] } } }],
  },
  {
    name: 'bridge, tuning, portmap, bandwidth',
    steps: (netns) => [
      { type: 'bridge', conf: { bridge: 'crbr1', isGateway: true, ipMasq: true, ipam: hostLocal(netns, '10.66.0.0/24') } },
      { type: 'tuning', conf: { mtu: 1400, promisc: true, sysctl: { 'net.ipv4.conf.eth0.rp_filter': '1' }, dataDir: join(netns.dir, 'tuning') } },
      { type: 'portmap', conf: { snat: true, capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] } } },
      { type: 'bandwidth', conf: { ingressRate: 1_000_000, ingressBurst: 100_000, egressRate: 1_000_000, egressBurst: 100_000 } },
    ],
  },
];

function requestOf(netns: TestNetns, step: Step, command: 'ADD' | 'DEL', containerId: string, prevResult?: unknown): PluginRunOptions {
  const conf = { cniVersion: '1.0.0', name: 'crash', type: step.type, ...step.conf, ...(prevResult === undefined ? {} : { prevResult }) };
  return { command, containerId, netns: netns.container, ifName: 'eth0', cniPath: BUNDLE, hostNetns: netns.host, conf };
}

/** ADD of the whole list, each plugin given the previous result; the time each took. */
async function addAll(netns: TestNetns, steps: Step[], containerId: string): Promise<number[]> {
  const times: number[] = [];
  let prev: unknown;
  for (const step of steps) {
    const started = performance.now();
    const out = await execPlugin(join(BUNDLE, step.type), requestOf(netns, step, 'ADD', containerId, prev));
    times.push(performance.now() - started);
    expect(out.error, `${step.type} ADD`).toBeUndefined();
    prev = out.result;
  }
  return times;
}

/** DEL of the whole list in reverse, without prevResult (the runtime has no cached result of a failed ADD). */
async function delAll(netns: TestNetns, steps: Step[], containerId: string): Promise<void> {
  for (const step of [...steps].reverse()) {
    const out = await execPlugin(join(BUNDLE, step.type), requestOf(netns, step, 'DEL', containerId));
    expect(out.exitCode, `${step.type} DEL after a killed ADD: ${out.stdout}${out.stderr}`).toBe(0);
  }
}

/** Runs one plugin's ADD and kills it with SIGKILL after `delayMs`; resolves with its exit code (null when killed) and stdout. */
function addKilled(netns: TestNetns, step: Step, containerId: string, prevResult: unknown, delayMs: number): Promise<{ code: number | null; stdout: string }> {
  const options = requestOf(netns, step, 'ADD', containerId, prevResult);
  return new Promise((resolve) => {
    // `ip netns exec` execs the plugin in its own process: the pid is the plugin's.
    const child = spawn('ip', ['netns', 'exec', netns.host.name, join(BUNDLE, step.type)], { env: pluginEnv(options), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(options.conf));
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

describe.skipIf(process.getuid?.() !== 0 || !existsSync(join(BUNDLE, 'bridge')))('crash safety: SIGKILL at a random moment of ADD, then DEL, leaves nothing', () => {
  it.each(SCENARIOS)('$name', async (scenario) => {
    const netns = await useTestNetns({ defaultRoute: true });
    await scenario.setup?.(netns);
    const steps = scenario.steps(netns);
    // One ADD and DEL first: what the plugins keep on purpose (the bridge, portmap's shared
    // chains, the store's lock) exists before the snapshot, and the ADD's duration is known.
    const durations = await addAll(netns, steps, 'probe');
    await delAll(netns, steps, 'probe');
    const before = await netns.snapshot([netns.dir]);
    const total = durations.reduce((a, b) => a + b, 0);
    const random = prng(SEED + scenario.name.length);
    let killed = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const id = `crash${trial}`;
      // The moment of death: a random point of the whole list's ADD.
      let at = random() * total * 1.1;
      let prev: unknown;
      for (const step of steps) {
        const duration = durations[steps.indexOf(step)]!;
        if (at > duration) {
          const out = await execPlugin(join(BUNDLE, step.type), requestOf(netns, step, 'ADD', id, prev));
          if (out.exitCode !== 0) break;
          prev = out.result;
          at -= duration;
          continue;
        }
        const out = await addKilled(netns, step, id, prev, Math.max(1, Math.round(at)));
        if (out.code === null) killed++;
        break;
      }
      await delAll(netns, steps, id);
      const leaks = await findLeaks(before);
      expect(leaks, `${scenario.name} trial ${trial} (seed ${SEED}): killed ${Math.round(at)} ms into a step`).toEqual([]);
    }
    console.log(`crash ${scenario.name}: ${TRIALS} trials, ${killed} killed mid-ADD, seed ${SEED}, ADD takes ${Math.round(total)} ms`);
  });
});
