// SPDX-License-Identifier: Apache-2.0
// A warm worker of the resident daemon (worker.cjs in the payload). The daemon starts the
// payload's runtime on main.cjs as `cni-bundle-worker`, with an IPC channel. A plugin's file is
// loaded on the plugin's first request (a delegate's on its first delegation), not all up front: a
// node uses a few of the payload's plugins, and each file loaded costs a worker several MB for its
// whole life. It runs one request at a time through the same path an in-process delegate takes
// (runCaptured: the plugin's io collected, never the process's fds), with process.env and the
// working folder set to the request's for its duration, since some libraries read them (PATH for
// iptables, the tuning allowlist's variable).
import { readlinkSync } from 'node:fs';
import { runCaptured } from '../runtime/capture.ts';
import { loadBundled, payloadDir } from '../runtime/payload.ts';

/** A request as the daemon hands it over (already checked: the name is one of the payload's plugins). */
export interface WorkerJob {
  id: number;
  name: string;
  cwd: string;
  env: Record<string, string>;
  stdin: Uint8Array;
}

/** What the worker answers. */
export type WorkerMessage =
  | { type: 'ready'; rss: number }
  | { type: 'done'; id: number; code: number; stdout: Uint8Array; stderr: Uint8Array; rss: number; retire?: string };

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/** Serve the daemon's requests until its channel closes. */
export function run(): Promise<number> {
  const dir = payloadDir();
  if (dir === undefined || process.send === undefined) {
    process.stderr.write('cni-bundle-worker: started outside a daemon\n');
    process.exitCode = 2;
    return Promise.resolve(2);
  }
  const base = { ...process.env };
  // Plugins that keep state between requests when the process lives on (multinet's NAD cache and
  // API connection: its thick mode) look for this flag; an executable never sets it.
  (globalThis as Record<symbol, unknown>)[Symbol.for('cni.resident')] = true;
  // The namespace the main thread must be in between requests: a plugin's setns section always
  // restores it, and a worker where one did not is retired rather than trusted with the next request.
  const hostNetns = readlinkSync('/proc/thread-self/ns/net');

  let busy = false;
  process.on('message', (job: WorkerJob) => {
    if (busy) return;
    busy = true;
    void serve(job).finally(() => {
      busy = false;
    });
  });
  // The daemon going away (its channel closed) ends the worker, and what a request of it started
  // (its process group: the daemon made the worker a group leader).
  process.on('disconnect', () => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(0);
    }
  });

  async function serve(job: WorkerJob): Promise<void> {
    setEnvironment(job.env);
    try {
      process.chdir(job.cwd || '/');
    } catch {
      // The runtime's folder is not visible here (another mount namespace): the plugins use none.
      process.chdir('/');
    }
    const plugin = loadBundled(job.name, dir!);
    const outcome = await runCaptured((io) => plugin.run(io), job.env, job.stdin);
    setEnvironment(base);
    process.chdir('/');
    let retire: string | undefined;
    if (readlinkSync('/proc/thread-self/ns/net') !== hostNetns) retire = 'left the host network namespace';
    send({ type: 'done', id: job.id, code: outcome.code, stdout: outcome.stdout, stderr: outcome.stderr, rss: process.memoryUsage.rss(), ...(retire ? { retire } : {}) });
  }

  process.chdir('/');
  send({ type: 'ready', rss: process.memoryUsage.rss() });
  return new Promise(() => {});
}

function setEnvironment(env: Readonly<Record<string, string | undefined>>): void {
  for (const key of Object.keys(process.env)) {
    if (!(key in env)) delete process.env[key];
  }
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) process.env[key] = value;
  }
}

