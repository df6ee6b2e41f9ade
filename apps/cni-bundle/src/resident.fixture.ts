// SPDX-License-Identifier: Apache-2.0
// The resident daemon of the built bundle, for the e2e tests: started once per test file inside a
// network namespace the file made (a plugin's "host" is the daemon's namespace: no test touches
// the machine's own), and a runner that starts the launcher there as a runtime would, in either
// mode: resident (CNI_BUNDLE_SOCKET names the fixture's daemon) or exec (resident mode off).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeReply, STATUS_MAGIC } from './daemon/protocol.ts';

export const binDir = process.env['CNI_BUNDLE_BIN'] ?? new URL('../dist/bin/', import.meta.url).pathname;
export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a run printed and how it ended. */
export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A daemon started by {@link startResident}. */
export interface ResidentFixture {
  /** The namespace the daemon (and the launchers the runner starts) run in. */
  netns: string;
  socket: string;
  dir: string;
  daemon: ChildProcess;
  /** Its log (stderr) so far. */
  log(): string;
  /** `cni-bundle daemon status --json`, from the socket. */
  status(): Promise<DaemonStatusJson>;
  /** Run `file` in the fixture's namespace; `mode` says whether the launcher may use the daemon. */
  exec(file: string, env: Record<string, string>, stdin: Uint8Array | string, mode: 'resident' | 'exec', options?: { netns?: string | null }): Promise<Outcome>;
  /**
   * Run `file` once per request, all at once, in the fixture's namespace: one helper process
   * enters it and starts them (not one `ip netns exec` each, which would double the load).
   */
  execMany(file: string, requests: { env: Record<string, string>; stdin: string }[], mode: 'resident' | 'exec'): Promise<Outcome[]>;
  /** SIGTERM and wait for the daemon to end (drain). */
  stop(): Promise<number | null>;
}

export interface DaemonStatusJson {
  pid: number;
  ready: boolean;
  workers: { pid: number; state: string; served: number; rssBytes: number }[];
  restarts: number;
  recycled: number;
  rejectedPeers: number;
  badFrames: number;
  requests: { plugin: string; verb: string; served: number; failed: number; refused: number }[];
  latencyMs: { count: number; p50?: number; p99?: number };
}

/** Ask the daemon at `socket` for its status. */
export function daemonStatus(socket: string): Promise<DaemonStatusJson> {
  return new Promise((resolve, reject) => {
    const client = connect(socket);
    const chunks: Buffer[] = [];
    client.on('connect', () => client.write(Buffer.concat([STATUS_MAGIC, Buffer.alloc(4)])));
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.on('error', reject);
    client.on('end', () => {
      const decoded = decodeReply(Buffer.concat(chunks));
      if (decoded?.reply.type !== 'S') return reject(new Error('not a status answer'));
      resolve(JSON.parse(decoded.reply.one.toString('utf8')) as DaemonStatusJson);
    });
  });
}

/** Wait until `check` holds, polling; throws with `what` after `ms`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Run `argv` with `env` and `stdin`, collecting its output. */
export function runProcess(argv: string[], env: Record<string, string>, stdin: Uint8Array | string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: performance.now() - started }));
    child.stdin.end(stdin);
  });
}

/** Another daemon on `socket` in namespace `netns` (a takeover); resolves once it is ready. */
export async function spawnDaemon(netns: string, socket: string, args: string[] = []): Promise<{ child: ChildProcess; exited: Promise<number | null>; log: () => string }> {
  const child = spawn('ip', ['netns', 'exec', netns, join(binDir, 'cni-bundle'), 'daemon', '--socket', socket, '--log-level', 'info', ...args], { env: { PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor('the new daemon to be ready', async () => (await daemonStatus(socket)).pid === child.pid && (await daemonStatus(socket)).workers.some((w) => w.state === 'idle'));
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, exited, log: () => log };
}

/**
 * Start `cni-bundle daemon` of the built bundle in a new network namespace, on a socket in a new
 * folder, and wait until it is ready. `args` are extra daemon flags.
 */
export async function startResident(args: string[] = []): Promise<ResidentFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'resident-e2e-'));
  const netns = `cni-resident-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const add = spawnSync('ip', ['netns', 'add', netns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${netns}: ${add.stderr}`);
  spawnSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const socket = join(dir, 'run', 'daemon.sock');
  const daemon = spawn('ip', ['netns', 'exec', netns, join(binDir, 'cni-bundle'), 'daemon', '--socket', socket, '--log-level', 'debug', ...args], {
    env: { PATH },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
  const fixture: ResidentFixture = {
    netns,
    socket,
    dir,
    daemon,
    log: () => log,
    status: () => daemonStatus(socket),
    exec(file, env, stdin, mode, options = {}) {
      const ns = options.netns === undefined ? netns : options.netns;
      const full = { PATH, ...env, CNI_BUNDLE_SOCKET: mode === 'resident' ? socket : '' };
      return runProcess(ns === null ? [file] : ['ip', 'netns', 'exec', ns, file], full, stdin);
    },
    async execMany(file, requests, mode) {
      const script = `
        const { spawn } = require('node:child_process');
        const [file, json] = process.argv.slice(1);
        const requests = JSON.parse(json);
        Promise.all(requests.map((r) => new Promise((resolve) => {
          const started = performance.now();
          const child = spawn(file, [], { env: r.env });
          let stdout = '', stderr = '';
          child.stdout.on('data', (c) => (stdout += c));
          child.stderr.on('data', (c) => (stderr += c));
          child.stdin.on('error', () => {});
          child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started }));
          child.stdin.end(r.stdin);
        }))).then((all) => process.stdout.write(JSON.stringify(all)));`;
      const full = requests.map((r) => ({ env: { PATH, ...r.env, CNI_BUNDLE_SOCKET: mode === 'resident' ? socket : '' }, stdin: r.stdin }));
      const out = await runProcess(['ip', 'netns', 'exec', netns, process.execPath, '-e', script, file, JSON.stringify(full)], { PATH }, '');
      if (out.status !== 0) throw new Error(`execMany: ${out.stderr}`);
      return JSON.parse(out.stdout) as Outcome[];
    },
    async stop() {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      spawnSync('ip', ['netns', 'del', netns]);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  try {
    await waitFor(`the daemon to be ready (log: ${log})`, async () => existsSync(socket) && (await daemonStatus(socket)).workers.some((w) => w.state === 'idle'));
  } catch (error) {
    await fixture.stop();
    throw error;
  }
  return fixture;
}
