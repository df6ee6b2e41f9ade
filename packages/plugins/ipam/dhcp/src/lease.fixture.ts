// SPDX-License-Identifier: Apache-2.0
// Test fixture (not shipped): the daemon and plugin runs the lease-tier tests share.
import { configureIface } from '@cni/ipam';
import { runPlugin } from '@cni/skel';
import type { ResultV100 } from '@cni/spec';
import { onTestFinished } from 'vitest';
import { type DaemonOptions, type DhcpDaemon, startDaemon } from './daemon.ts';
import type { Lab, Pod } from './lab.fixture.ts';
import { dhcp } from './plugin.ts';

/** A daemon for the lab, its log lines collected with timestamps; closed when the test finishes. */
export async function labDaemon(lab: Lab, options: DaemonOptions = {}): Promise<DhcpDaemon & { lines: string[] }> {
  const lines: string[] = [];
  const daemon = await startDaemon({
    socketPath: lab.socketPath,
    stateDir: lab.stateDir,
    timeoutMs: 3000,
    resendTimeoutMs: 15_000,
    resendMaxMs: 5000,
    log: (line) => lines.push(`${new Date().toISOString()} ${line}`),
    ...options,
  });
  onTestFinished(() => daemon.close());
  return Object.assign(daemon, { lines });
}

/** The output of one in-process plugin run. */
export interface RunOutput {
  result: unknown;
  error: { code: number; msg: string } | undefined;
}

/** The test kit's `runInProcess`, passed in by the test (fixtures may not import the test kit). */
export type InProcessRunner = (invoke: (io: never) => unknown, options: Record<string, unknown>) => Promise<RunOutput>;

/** Run the plugin in this process for `pod`, as a runtime would (the plugin only talks to the daemon's socket). */
export async function runDhcp(runInProcess: InProcessRunner, lab: Lab, pod: Pod, command: 'ADD' | 'DEL' | 'CHECK', prevResult?: unknown): Promise<RunOutput> {
  const conf: Record<string, unknown> = { cniVersion: '1.1.0', name: 'lan', type: 'macvlan', ipam: { type: 'dhcp', daemonSocketPath: lab.socketPath } };
  if (prevResult !== undefined) conf['prevResult'] = prevResult;
  const out = await runInProcess((io) => runPlugin(dhcp, io), { command, conf, netns: pod.path, containerId: pod.containerId, cniPath: lab.dir });
  return { result: out.result, error: out.error };
}

/** Apply an ADD result to the pod's eth0 as a main plugin does. */
export async function configurePod(pod: Pod, result: ResultV100): Promise<void> {
  await configureIface('eth0', { ...result, interfaces: [{ name: 'eth0', sandbox: pod.path }], ips: (result.ips ?? []).map((ip) => ({ ...ip, interface: 0 })) }, { netns: pod.path });
}

/** Wait `ms`. */
export function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
