// SPDX-License-Identifier: Apache-2.0
import { chmodSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { getsockopt, SOL_SOCKET } from '@cni/sys';
import { WorkerPool, type PoolOutcome } from './pool.ts';
import { encodeReply, FrameError, FrameReader, type ResidentRequest } from './protocol.ts';
import { DaemonStats } from './stats.ts';

/** SO_PEERCRED: the pid, uid and gid of the process at the other end of a Unix socket. */
const SO_PEERCRED = 17;
/** A client has this long to send its whole request, and then its "go". */
const READ_TIMEOUT_MS = 10_000;
const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** The daemon's settings: its flags. Nothing a request carries changes them. */
export interface DaemonOptions {
  /** The payload folder the workers run (`.cni-bundle-<id>`). */
  payload: string;
  payloadId: string;
  plugins: readonly string[];
  node: string;
  socket: string;
  workers: number;
  requestTimeout: number;
  queueTimeout: number;
  maxQueue: number;
  maxRequests: number;
  maxRss: number;
  logLevel: keyof typeof LOG_LEVELS;
  /** A Unix socket or a localhost port serving Prometheus text on /metrics and readiness on /readyz. */
  metricsSocket?: string;
  metricsPort?: number;
  /** Listening descriptor handed over by systemd (socket activation). */
  listenFd?: number;
}

/** The running daemon. */
export interface Daemon {
  /** Resolves when the daemon stopped (drained). */
  readonly stopped: Promise<void>;
  /** Drain: stop taking requests, finish those in flight, stop the workers. */
  drain(reason: string): Promise<void>;
  status(): Record<string, unknown>;
}

/** Write a structured log line on stderr. */
function logger(level: keyof typeof LOG_LEVELS) {
  return (at: keyof typeof LOG_LEVELS, msg: string, fields: Record<string, unknown> = {}) => {
    if (LOG_LEVELS[at] < LOG_LEVELS[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
  };
}

/** The uid of the peer of a connected Unix socket, from the kernel (SO_PEERCRED). */
function peerUid(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, 12).readUInt32LE(4);
  } catch {
    return undefined;
  }
}

/**
 * Start the resident daemon: a pool of warm workers behind a Unix socket the launcher offers
 * requests to. The socket's folder is made root-only (0700) and the socket 0600; a new daemon
 * takes the path over by renaming its socket onto it, and a daemon whose path was taken over
 * drains, so an upgrade never leaves a window without a listener or two daemons answering.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = logger(options.logLevel);
  const stats = new DaemonStats();
  const pool = new WorkerPool({ ...options, script: `${options.payload}/main.cjs`, log });
  const served = new Set(options.plugins);
  let draining = false;
  const connections = new Set<Socket>();
  // A plugin's "host" is the namespace it runs in: the daemon serves callers in its own only.
  const own = statSync('/proc/self/ns/net');
  const ownNetns = `${own.dev}:${own.ino}`;

  const server: Server = createServer({ pauseOnConnect: true, allowHalfOpen: false }, (socket) => {
    // Who is calling, before a byte is read: root, or the daemon's own user.
    const uid = peerUid(socket);
    if (uid === undefined || (uid !== 0 && uid !== process.geteuid?.())) {
      stats.rejectedPeers++;
      log('warn', 'connection from a peer that is not root refused', { uid });
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    handle(socket);
  });
  server.maxConnections = 4096;

  function handle(socket: Socket): void {
    const reader = new FrameReader();
    let phase: 'frame' | 'go' | 'running' | 'closed' = 'frame';
    let request: ResidentRequest | undefined;
    // A request (and its "go") slower than this is refused, never dropped: a launcher that sent
    // its "go" meanwhile reads the refusal and knows nothing ran.
    const timer = setTimeout(() => {
      if (phase === 'frame' || phase === 'go') refuse(`the request and its "go" did not arrive within ${READ_TIMEOUT_MS} ms`, request?.env['CNI_COMMAND'] ?? '');
    }, READ_TIMEOUT_MS);
    socket.on('error', () => {});
    socket.on('close', () => {
      phase = 'closed';
      clearTimeout(timer);
    });
    const refuse = (reason: string, verb = '') => {
      if (request) stats.count(request.name, verb, 'refused');
      socket.end(encodeReply('R', 0, Buffer.from(reason)));
      phase = 'closed';
      clearTimeout(timer);
    };
    socket.on('data', (chunk: Buffer) => {
      if (phase === 'closed') return;
      if (phase === 'frame') {
        let frame;
        try {
          frame = reader.push(chunk);
        } catch (error) {
          stats.badFrames++;
          log('warn', 'malformed frame refused', { error: (error as Error).message });
          refuse(`malformed request: ${(error as FrameError).message}`);
          return;
        }
        if (frame === undefined) return;
        if (frame.kind === 'status') {
          socket.end(encodeReply('S', 0, Buffer.from(JSON.stringify(status()))));
          phase = 'closed';
          clearTimeout(timer);
          return;
        }
        request = frame.request;
        const verb = request.env['CNI_COMMAND'] ?? '';
        if (request.payloadId !== options.payloadId) return refuse(`the daemon runs payload ${options.payloadId}, not ${request.payloadId}`, verb);
        if (request.netns !== ownNetns) return refuse(`the caller runs in another network namespace (${request.netns || 'unknown'}) than the daemon (${ownNetns})`, verb);
        if (!served.has(request.name)) return refuse(`no plugin named "${request.name}" in payload ${options.payloadId}`, verb);
        if (draining) return refuse('the daemon is draining', verb);
        if (!pool.ready) return refuse('no worker is ready yet', verb);
        phase = 'go';
        socket.write(encodeReply('A', options.queueTimeout + options.requestTimeout));
        return;
      }
      if (phase === 'go') {
        if (chunk.length !== 1 || chunk[0] !== 0x47) {
          stats.badFrames++;
          return refuse('malformed request: expected "G"');
        }
        phase = 'running';
        clearTimeout(timer);
        void run(socket, request!);
        return;
      }
      // Anything after "go" is not part of the protocol.
      socket.destroy();
    });
    socket.resume();
  }

  async function run(socket: Socket, request: ResidentRequest): Promise<void> {
    const started = performance.now();
    const verb = request.env['CNI_COMMAND'] ?? '';
    const outcome: PoolOutcome = await pool.run({ name: request.name, cwd: request.cwd, env: request.env, stdin: request.stdin });
    const ms = performance.now() - started;
    if (outcome.kind === 'done') {
      stats.count(request.name, verb, 'served', ms);
      socket.end(encodeReply('D', outcome.code, outcome.stdout, outcome.stderr));
      log('debug', 'request served', { plugin: request.name, verb, code: outcome.code, ms: Math.round(ms * 100) / 100 });
    } else if (outcome.kind === 'refused') {
      stats.count(request.name, verb, 'refused');
      socket.end(encodeReply('R', 0, Buffer.from(outcome.reason)));
      log('info', 'request refused', { plugin: request.name, verb, reason: outcome.reason });
    } else {
      stats.count(request.name, verb, 'failed');
      socket.end(encodeReply('F', 0, Buffer.from(outcome.reason)));
      log('error', 'request failed', { plugin: request.name, verb, reason: outcome.reason });
    }
  }

  function status(): Record<string, unknown> {
    return {
      payload: options.payloadId,
      pid: process.pid,
      socket: options.socket,
      ready: pool.ready && !draining,
      draining,
      upSeconds: Math.round((Date.now() - stats.started) / 1000),
      workers: pool.workers(),
      queued: pool.queued,
      inFlight: pool.inFlight,
      restarts: pool.restarts,
      recycled: pool.recycled,
      rejectedPeers: stats.rejectedPeers,
      badFrames: stats.badFrames,
      requests: stats.requests(),
      latencyMs: stats.percentiles(),
      limits: {
        workers: options.workers,
        requestTimeoutMs: options.requestTimeout,
        queueTimeoutMs: options.queueTimeout,
        maxQueue: options.maxQueue,
        maxRequests: options.maxRequests,
        maxRssBytes: options.maxRss,
      },
    };
  }

  // Listen: the descriptor systemd handed over, or our own socket renamed onto the path.
  let ownInode: number | undefined;
  if (options.listenFd !== undefined) {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ fd: options.listenFd }, resolve));
  } else {
    const dir = dirname(options.socket);
    // A folder others can write to would let them replace the socket under the launcher. One we
    // make is ours and 0700; one that exists is refused, never changed: chmod of a shared folder
    // (`--socket /tmp/x.sock`) would take /tmp away from every other user of the machine.
    const made = mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined;
    if (made) chmodSync(dir, 0o700);
    const folder = statSync(dir);
    if (folder.uid !== (process.geteuid?.() ?? 0)) throw new Error(`the socket's folder ${dir} is not owned by the daemon's user: choose a folder of its own, such as /run/cni-bundle`);
    if ((folder.mode & 0o022) !== 0) {
      throw new Error(`the socket's folder ${dir} can be written by others (mode ${(folder.mode & 0o7777).toString(8)}): choose a folder of its own, such as /run/cni-bundle`);
    }
    const staging = `${options.socket}.${process.pid}.tmp`;
    rmSocket(staging);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(staging, resolve));
    chmodSync(staging, 0o600);
    renameSync(staging, options.socket);
    ownInode = statSync(options.socket).ino;
  }
  log('info', 'daemon listening', { socket: options.socket, payload: options.payloadId, workers: options.workers, activated: options.listenFd !== undefined });

  // A newer daemon (an upgrade) renamed its socket onto ours: drain and leave it the path.
  const watch =
    ownInode === undefined
      ? undefined
      : setInterval(() => {
          let inode: number | undefined;
          try {
            inode = lstatSync(options.socket).ino;
          } catch {
            inode = undefined;
          }
          if (inode !== ownInode) void drain('another daemon took over the socket');
        }, 500);

  let metrics: HttpServer | undefined;
  if (options.metricsSocket !== undefined || options.metricsPort !== undefined) {
    metrics = createHttpServer((req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheus(status()));
      } else if (req.url === '/readyz' || req.url === '/healthz') {
        const ok = req.url === '/healthz' || (pool.ready && !draining);
        res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'not ready\n');
      } else {
        res.writeHead(404).end();
      }
    });
    if (options.metricsSocket !== undefined) {
      rmSocket(options.metricsSocket);
      await new Promise<void>((resolve) => metrics!.listen(options.metricsSocket, resolve));
      chmodSync(options.metricsSocket, 0o600);
    } else {
      await new Promise<void>((resolve) => metrics!.listen(options.metricsPort, '127.0.0.1', resolve));
    }
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let drained: Promise<void> | undefined;
  function drain(reason: string): Promise<void> {
    drained ??= (async () => {
      draining = true;
      clearInterval(watch);
      log('info', 'draining', { reason, inFlight: pool.inFlight, queued: pool.queued });
      server.close();
      // The path is ours still: remove it, so launchers run plugins themselves at once.
      if (ownInode !== undefined) {
        try {
          if (lstatSync(options.socket).ino === ownInode) unlinkSync(options.socket);
        } catch {
          // Gone already.
        }
      }
      await pool.drain();
      metrics?.close();
      if (options.metricsSocket !== undefined) rmSocket(options.metricsSocket);
      for (const socket of connections) socket.destroy();
      log('info', 'stopped', { served: stats.percentiles().count });
      resolveStopped();
    })();
    return drained;
  }
  return { stopped, drain, status };
}

function rmSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there.
  }
}

/** The status as Prometheus text. */
export function prometheus(status: Record<string, unknown>): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const requests = status['requests'] as { plugin: string; verb: string; served: number; failed: number; refused: number }[];
  metric(
    'cni_bundle_requests_total',
    'counter',
    'Requests by plugin, verb and outcome (served: ran in a worker; failed: lost midway; refused: left to the launcher).',
    requests.flatMap((r) =>
      (['served', 'failed', 'refused'] as const).map((outcome): [string, number] => [`{plugin="${label(r.plugin)}",verb="${label(r.verb)}",outcome="${outcome}"}`, r[outcome]]),
    ),
  );
  const workers = status['workers'] as { rssBytes: number }[];
  metric('cni_bundle_workers', 'gauge', 'Worker processes.', [['', workers.length]]);
  metric('cni_bundle_worker_rss_bytes', 'gauge', 'Resident set of the workers, summed.', [['', workers.reduce((sum, w) => sum + w.rssBytes, 0)]]);
  metric('cni_bundle_worker_restarts_total', 'counter', 'Workers replaced after a crash or a kill.', [['', status['restarts'] as number]]);
  metric('cni_bundle_worker_recycled_total', 'counter', 'Workers replaced after their request count or memory bound.', [['', status['recycled'] as number]]);
  metric('cni_bundle_queued_requests', 'gauge', 'Requests waiting for a worker.', [['', status['queued'] as number]]);
  metric('cni_bundle_rejected_peers_total', 'counter', 'Connections refused because the peer is not root.', [['', status['rejectedPeers'] as number]]);
  metric('cni_bundle_bad_frames_total', 'counter', 'Malformed requests refused.', [['', status['badFrames'] as number]]);
  const latency = status['latencyMs'] as Record<string, number>;
  metric(
    'cni_bundle_request_latency_ms',
    'gauge',
    'Latency of the last requests served, by quantile.',
    (['p50', 'p90', 'p99'] as const).filter((q) => latency[q] !== undefined).map((q): [string, number] => [`{quantile="0.${q.slice(1)}"}`, latency[q]!]),
  );
  metric('cni_bundle_ready', 'gauge', '1 when a worker is ready and the daemon is not draining.', [['', status['ready'] ? 1 : 0]]);
  return `${lines.join('\n')}\n`;
}
