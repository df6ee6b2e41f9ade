// SPDX-License-Identifier: Apache-2.0
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { readAbout } from '../install/install.ts';
import { decodeReply, STATUS_MAGIC } from './protocol.ts';

/** Where the daemon listens unless --socket says otherwise; the launcher's compiled-in default. */
export const DEFAULT_SOCKET = '/run/cni-bundle/daemon.sock';

export const daemonUsage = `usage: cni-bundle daemon [flags]        run the resident daemon (docs/resident.md)
       cni-bundle daemon status [--socket <path>] [--json]

flags (defaults fit a node; nothing a request carries changes them):
  --socket <path>            Unix socket (default ${DEFAULT_SOCKET}; its folder is made 0700)
  --workers <n>              warm worker processes (default min(4, CPUs))
  --request-timeout <ms>     a request running longer has its worker killed (default 300000)
  --queue-timeout <ms>       a request waiting longer for a worker is left to the launcher (default 10000)
  --max-queue <n>            requests waiting at most (default 1024)
  --max-requests <n>         a worker is replaced after this many requests (default 1000)
  --max-rss <MB>             a worker above this resident set is replaced (default 256)
  --log-level <level>        debug, info, warn or error (default info); JSON lines on stderr
  --metrics-socket <path>    serve /metrics (Prometheus text) and /readyz on this Unix socket
  --metrics-port <port>      ... or on 127.0.0.1:<port> (opt-in)
`;

class UsageError extends Error {}

function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === name) {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      return value;
    }
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

function integer(args: readonly string[], name: string, fallback: number, min: number): number {
  const text = flag(args, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${name} must be an integer of at least ${min}, not "${text}"`);
  return Number(text);
}

const KNOWN = new Set(['--socket', '--workers', '--request-timeout', '--queue-timeout', '--max-queue', '--max-requests', '--max-rss', '--log-level', '--metrics-socket', '--metrics-port', '--json']);

/** `cni-bundle daemon ...`; resolves to the exit status. */
export async function runDaemonCommand(payload: string, args: readonly string[]): Promise<number> {
  try {
    for (const arg of args) {
      if (arg.startsWith('--') && !KNOWN.has(arg.split('=')[0]!)) throw new UsageError(`unknown flag "${arg}"`);
    }
    if (args[0] === 'status') return await showStatus(flag(args, '--socket') ?? DEFAULT_SOCKET, args.includes('--json'));
    if (args.length > 0 && !args[0]!.startsWith('--')) throw new UsageError(`unknown daemon command "${args[0]}"`);
    const logLevel = flag(args, '--log-level') ?? 'info';
    if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${logLevel}"`);
    const metricsPortText = flag(args, '--metrics-port');
    const metricsSocket = flag(args, '--metrics-socket');
    const about = readAbout(payload);
    // systemd socket activation: the listening socket is descriptor 3.
    const activated = process.env['LISTEN_PID'] === String(process.pid) && Number(process.env['LISTEN_FDS'] ?? '0') >= 1;
    const { startDaemon } = await import('./server.ts');
    const daemon = await startDaemon({
      payload,
      payloadId: about.id,
      plugins: about.plugins,
      node: join(payload, 'node'),
      socket: flag(args, '--socket') ?? DEFAULT_SOCKET,
      workers: integer(args, '--workers', Math.max(1, Math.min(4, cpus().length)), 1),
      requestTimeout: integer(args, '--request-timeout', 300_000, 100),
      queueTimeout: integer(args, '--queue-timeout', 10_000, 10),
      maxQueue: integer(args, '--max-queue', 1024, 1),
      maxRequests: integer(args, '--max-requests', 1000, 1),
      maxRss: integer(args, '--max-rss', 256, 16) * 1024 * 1024,
      logLevel: logLevel as 'info',
      ...(metricsSocket !== undefined ? { metricsSocket } : {}),
      ...(metricsPortText !== undefined ? { metricsPort: integer(args, '--metrics-port', 0, 1) } : {}),
      ...(activated ? { listenFd: 3 } : {}),
    });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void daemon.drain(signal));
    await daemon.stopped;
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`cni-bundle daemon: ${error.message}\n${daemonUsage}`);
      return 2;
    }
    throw error;
  }
}

/** Ask a daemon for its status and print it. */
async function showStatus(socket: string, json: boolean): Promise<number> {
  const status = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const client = connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => client.destroy(new Error(`no answer from ${socket} within 5 s`)), 5000);
    client.on('connect', () => client.write(Buffer.concat([STATUS_MAGIC, Buffer.alloc(4)])));
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`no daemon at ${socket}: ${error.message}`));
    });
    client.on('end', () => {
      clearTimeout(timer);
      const decoded = decodeReply(Buffer.concat(chunks));
      if (decoded?.reply.type !== 'S') return reject(new Error(`${socket}: not a status answer`));
      resolve(JSON.parse(decoded.reply.one.toString('utf8')) as Record<string, unknown>);
    });
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const workers = status['workers'] as { pid: number; state: string; served: number; rssBytes: number; upSeconds: number }[];
  const requests = status['requests'] as { plugin: string; verb: string; served: number; failed: number; refused: number }[];
  const latency = status['latencyMs'] as Record<string, number>;
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
  const lines = [
    `daemon pid ${status['pid']}, payload ${status['payload']} (${basename(String(status['socket']))}), ${status['ready'] ? 'ready' : 'not ready'}${status['draining'] ? ', draining' : ''}, up ${status['upSeconds']} s`,
    `workers: ${workers.length} (restarts ${status['restarts']}, recycled ${status['recycled']}), queued ${status['queued']}, in flight ${status['inFlight']}`,
    ...workers.map((w) => `  pid ${w.pid}  ${w.state.padEnd(8)} served ${String(w.served).padStart(6)}  rss ${mb(w.rssBytes)}  up ${w.upSeconds} s`),
    `latency (ms, last ${latency['count']}): p50 ${latency['p50'] ?? '-'}  p90 ${latency['p90'] ?? '-'}  p99 ${latency['p99'] ?? '-'}  max ${latency['max'] ?? '-'}`,
    'requests:',
    ...requests.map((r) => `  ${r.plugin.padEnd(12)} ${(r.verb || '(none)').padEnd(8)} served ${r.served}  failed ${r.failed}  refused ${r.refused}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
