// SPDX-License-Identifier: Apache-2.0
import { spawn, type ChildProcess } from 'node:child_process';
import type { WorkerJob, WorkerMessage } from './worker.ts';

/** How a request ended in the pool. */
export type PoolOutcome =
  | { kind: 'done'; code: number; stdout: Buffer; stderr: Buffer }
  /** Nothing ran (busy, draining): the launcher may run it itself. */
  | { kind: 'refused'; reason: string }
  /** It may have run in part: the worker died or ran past the limit. */
  | { kind: 'failed'; reason: string };

/** The pool's settings: the daemon's flags. */
export interface PoolOptions {
  /** The payload's runtime and its dispatcher (main.cjs), started as `cni-bundle-worker`. */
  node: string;
  script: string;
  workers: number;
  /** A request running longer has its worker killed (ms). */
  requestTimeout: number;
  /** A request waiting longer for a worker is refused, so the launcher runs it (ms). */
  queueTimeout: number;
  /** Requests waiting at most; more are refused. */
  maxQueue: number;
  /** A worker is replaced after this many requests. */
  maxRequests: number;
  /** A worker whose resident set grows past this (bytes) is replaced after its request. */
  maxRss: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

interface Job {
  job: Omit<WorkerJob, 'id'>;
  resolve: (outcome: PoolOutcome) => void;
  queued: number;
  timer?: NodeJS.Timeout;
}

interface Slot {
  child: ChildProcess;
  pid: number;
  state: 'starting' | 'idle' | 'busy' | 'stopping';
  served: number;
  rss: number;
  started: number;
  /** Started to replace a recycled worker (a healthy payload: its start is not in doubt). */
  replacement: boolean;
  current?: { id: number; job: Job; timer: NodeJS.Timeout; done: boolean; started: number };
}

/** What `cni-bundle daemon status` shows of one worker. */
export interface WorkerStatus {
  pid: number;
  state: Slot['state'];
  served: number;
  rssBytes: number;
  upSeconds: number;
}

/**
 * The warm workers: child processes of the daemon on the payload's runtime, one request each at a
 * time. Crashed workers are replaced (with a growing pause when they die before being ready, so a
 * broken payload does not spin), runaway requests have their worker killed, and workers are
 * recycled after {@link PoolOptions.maxRequests} requests or above {@link PoolOptions.maxRss}.
 */
export class WorkerPool {
  readonly #options: PoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #draining = false;
  #startFailures = 0;
  #respawnTimer: NodeJS.Timeout | undefined;
  /** Workers replaced after a crash or a kill (not recycling). */
  restarts = 0;
  /** Workers replaced by recycling (request count or memory). */
  recycled = 0;

  constructor(options: PoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.workers; i++) this.#spawn();
  }

  /**
   * Whether the pool takes requests: a worker is ready, or one is starting to replace a recycled
   * one (a request then waits for it in the queue; refusing would send it to the exec path while a
   * warm worker is a few hundred ms away, which with one worker is every request after a recycle).
   */
  get ready(): boolean {
    for (const slot of this.#slots) if (slot.state === 'idle' || slot.state === 'busy' || (slot.state === 'starting' && slot.replacement)) return true;
    return false;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    let count = 0;
    for (const slot of this.#slots) if (slot.current) count++;
    return count;
  }

  /** The workers, for status. */
  workers(): WorkerStatus[] {
    const now = Date.now();
    return [...this.#slots].map((slot) => ({ pid: slot.pid, state: slot.state, served: slot.served, rssBytes: slot.rss, upSeconds: Math.round((now - slot.started) / 1000) }));
  }

  /** Pids of the workers (tests kill them). */
  pids(): number[] {
    return [...this.#slots].map((slot) => slot.pid);
  }

  /** Run a request on the next free worker. */
  run(job: Omit<WorkerJob, 'id'>): Promise<PoolOutcome> {
    return new Promise((resolve) => {
      if (this.#draining) return resolve({ kind: 'refused', reason: 'the daemon is draining' });
      if (this.#queue.length >= this.#options.maxQueue) return resolve({ kind: 'refused', reason: `the daemon's queue is full (${this.#options.maxQueue})` });
      const entry: Job = { job, resolve, queued: Date.now() };
      entry.timer = setTimeout(() => {
        const at = this.#queue.indexOf(entry);
        if (at < 0) return;
        this.#queue.splice(at, 1);
        resolve({ kind: 'refused', reason: `no worker free within ${this.#options.queueTimeout} ms` });
      }, this.#options.queueTimeout);
      this.#queue.push(entry);
      this.#schedule();
    });
  }

  /** Stop taking requests; resolves once the queue and the requests in flight are done and the workers stopped. */
  async drain(): Promise<void> {
    this.#draining = true;
    clearTimeout(this.#respawnTimer);
    while (this.#queue.length > 0 || this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const exits = [...this.#slots].map((slot) => new Promise((resolve) => (slot.child.exitCode !== null || slot.child.signalCode !== null ? resolve(undefined) : slot.child.once('exit', resolve))));
    for (const slot of this.#slots) this.#stop(slot);
    await Promise.all(exits);
  }

  #schedule(): void {
    while (this.#queue.length > 0) {
      const slot = [...this.#slots].find((s) => s.state === 'idle');
      if (slot === undefined) return;
      const entry = this.#queue.shift()!;
      clearTimeout(entry.timer);
      this.#dispatch(slot, entry);
    }
  }

  #dispatch(slot: Slot, entry: Job): void {
    const id = this.#nextId++;
    slot.state = 'busy';
    const timer = setTimeout(() => {
      const current = slot.current;
      if (current?.id !== id || current.done) return;
      current.done = true;
      this.#options.log('warn', 'request ran past the limit: worker killed', { pid: slot.pid, plugin: entry.job.name, timeoutMs: this.#options.requestTimeout });
      killGroup(slot.pid);
      entry.resolve({ kind: 'failed', reason: `the request ran past the daemon's limit of ${this.#options.requestTimeout} ms; its worker (pid ${slot.pid}) was killed` });
    }, this.#options.requestTimeout);
    slot.current = { id, job: entry, timer, done: false, started: Date.now() };
    const message: WorkerJob = { id, ...entry.job };
    slot.child.send(message, (error) => {
      if (error) this.#options.log('warn', 'cannot hand a request to a worker', { pid: slot.pid, error: error.message });
    });
  }

  #spawn(replacement = false): void {
    if (this.#draining) return;
    const child = spawn(this.#options.node, [...WORKER_FLAGS, this.#options.script], {
      // The worker's own output is the daemon's log; a plugin's output is captured, never printed.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      argv0: 'cni-bundle-worker',
      // Two malloc arenas, not eight per core: a worker runs one request at a time, and each arena a
      // thread touched stays in its resident set for the worker's life.
      env: { PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', MALLOC_ARENA_MAX: '2' },
      cwd: '/',
      // Its own process group: a worker killed takes the programs its request started with it
      // (a delegate that hangs), so nothing of a lost request runs on afterwards.
      detached: true,
    });
    const slot: Slot = { child, pid: child.pid ?? -1, state: 'starting', served: 0, rss: 0, started: Date.now(), replacement };
    this.#slots.add(slot);
    child.on('message', (message: WorkerMessage) => this.#onMessage(slot, message));
    child.on('error', (error) => this.#options.log('error', 'worker error', { pid: slot.pid, error: error.message }));
    child.on('exit', (code, signal) => this.#onExit(slot, code, signal));
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    if (message.type === 'ready') {
      slot.state = 'idle';
      slot.rss = message.rss;
      this.#startFailures = 0;
      this.#options.log('debug', 'worker ready', { pid: slot.pid, rssBytes: message.rss });
      this.#schedule();
      return;
    }
    const current = slot.current;
    if (current?.id !== message.id) return;
    clearTimeout(current.timer);
    delete slot.current;
    slot.served++;
    slot.rss = message.rss;
    if (!current.done) {
      current.done = true;
      current.job.resolve({ kind: 'done', code: message.code, stdout: Buffer.from(message.stdout), stderr: Buffer.from(message.stderr) });
    }
    const retire =
      message.retire ??
      (slot.served >= this.#options.maxRequests ? `served ${slot.served} requests` : slot.rss > this.#options.maxRss ? `resident set ${Math.round(slot.rss / 1048576)} MB over the bound` : undefined);
    if (retire !== undefined) {
      this.#options.log('info', 'worker recycled', { pid: slot.pid, reason: retire });
      this.recycled++;
      this.#stop(slot);
      this.#spawn(true);
    } else {
      slot.state = 'idle';
    }
    this.#schedule();
  }

  #stop(slot: Slot): void {
    if (slot.state === 'stopping') return;
    slot.state = 'stopping';
    if (slot.child.connected) slot.child.disconnect();
    // A worker that does not end on its own within a second is killed.
    setTimeout(() => slot.child.kill('SIGKILL'), 1000).unref();
  }

  #onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.#slots.delete(slot);
    const current = slot.current;
    if (current !== undefined) {
      // What the lost request started must not finish it behind the launcher's back.
      killGroup(slot.pid);
      clearTimeout(current.timer);
      if (!current.done) {
        current.done = true;
        current.job.resolve({ kind: 'failed', reason: `its worker (pid ${slot.pid}) died (${signal ? `signal ${signal}` : `exit status ${code}`}) during the request` });
      }
    }
    if (slot.state === 'stopping' || this.#draining) return;
    this.restarts++;
    this.#options.log(current ? 'error' : 'warn', 'worker died; starting another', { pid: slot.pid, code, signal, duringRequest: current !== undefined });
    if (slot.state === 'starting') this.#startFailures++;
    const pause = this.#startFailures === 0 ? 0 : Math.min(30_000, 100 * 2 ** Math.min(this.#startFailures, 9));
    if (pause === 0) this.#spawn();
    else this.#respawnTimer = setTimeout(() => this.#spawn(), pause);
  }
}

/**
 * V8 settings of a worker. A request allocates a few MB and then all of it is garbage, so a small
 * young generation (1 MB semi-spaces instead of up to 16 MB) costs a few more scavenges of nearly
 * empty space and saves each worker the tens of MB a grown young generation keeps resident.
 */
const WORKER_FLAGS = ['--max-semi-space-size=1'];

/** SIGKILL a worker's process group: the worker and whatever its request started. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
