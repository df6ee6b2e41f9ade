// SPDX-License-Identifier: Apache-2.0
import type { DaemonOptions } from './daemon.ts';
import { DhcpError } from './errors.ts';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`10s`, `1m30s`, `500ms`) in milliseconds; throws on anything else. */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const pattern = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    at = pattern.lastIndex;
  }
  if (at === 0 || at !== text.length) throw new DhcpError(`invalid duration "${text}"`);
  return total;
}

const VALUE_FLAGS = ['socketpath', 'pidfile', 'hostprefix', 'timeout', 'resendmax', 'resendtimeout', 'statedir'] as const;
const BOOL_FLAGS = ['broadcast'] as const;

/** The usage text of `dhcp daemon`. */
export const DAEMON_USAGE = `usage: dhcp daemon [flags]
  -socketpath PATH     unix socket to listen on (default /run/cni/dhcp.sock; systemd socket activation when LISTEN_FDS=1)
  -pidfile PATH        write the daemon's pid to PATH
  -hostprefix PREFIX   prefix of netns paths, for a daemon in a container that sees the host's / under PREFIX
  -broadcast           set the broadcast flag also in renewals
  -timeout DURATION    wait for carrier and for each renewal's answer (default 10s)
  -resendmax DURATION  longest wait between retransmissions (default 62s)
  -resendtimeout DURATION  longest acquisition (default 3m28s)
  -statedir PATH       where leases are kept across restarts (default /var/lib/cni/dhcp)
`;

/**
 * Read `dhcp daemon`'s flags as Go's flag package does: `-name value`, `-name=value`, one or
 * two dashes, `-broadcast` or `-broadcast=false`. `-statedir` is ours; the rest are upstream's.
 *
 * @throws DhcpError naming an unknown flag, a missing value or a bad duration.
 */
export function parseDaemonFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): DaemonOptions {
  const options: DaemonOptions = {};
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const match = /^--?([a-z]+)(?:=(.*))?$/s.exec(argument);
    if (match === null) throw new DhcpError(`unexpected argument "${argument}"\n${DAEMON_USAGE}`);
    const name = match[1]!;
    let value = match[2];
    if ((BOOL_FLAGS as readonly string[]).includes(name)) {
      if (value !== undefined && !['true', 'false', '1', '0'].includes(value)) throw new DhcpError(`invalid boolean value "${value}" for -${name}`);
      options.broadcast = value === undefined || value === 'true' || value === '1';
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(name)) throw new DhcpError(`flag provided but not defined: -${name}\n${DAEMON_USAGE}`);
    if (value === undefined) {
      value = argv[++index];
      if (value === undefined) throw new DhcpError(`flag needs an argument: -${name}`);
    }
    switch (name) {
      case 'socketpath':
        options.socketPath = value;
        break;
      case 'pidfile':
        options.pidFile = value;
        break;
      case 'hostprefix':
        options.hostPrefix = value;
        break;
      case 'statedir':
        options.stateDir = value;
        break;
      case 'timeout':
        options.timeoutMs = parseGoDuration(value);
        break;
      case 'resendmax':
        options.resendMaxMs = parseGoDuration(value);
        break;
      case 'resendtimeout':
        options.resendTimeoutMs = parseGoDuration(value);
        break;
    }
  }
  // systemd socket activation: one listening socket at fd 3.
  if (env['LISTEN_FDS'] === '1' && (env['LISTEN_PID'] === undefined || env['LISTEN_PID'] === String(process.pid))) options.listenFd = 3;
  return options;
}

/**
 * `dhcp daemon [flags]`: start the daemon and run until SIGTERM or SIGINT, then stop keeping
 * the leases on disk. Resolves to the exit status.
 */
export async function runDaemonCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let options: DaemonOptions;
  try {
    options = parseDaemonFlags(argv, env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const { startDaemon } = await import('./daemon.ts');
  let daemon;
  try {
    daemon = await startDaemon(options);
  } catch (error) {
    process.stderr.write(`dhcp daemon: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`${new Date().toISOString()} dhcp: daemon listening on "${daemon.socketPath}"\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await daemon.close();
  return 0;
}
