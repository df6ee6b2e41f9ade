// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CNI_ERROR_CODES, formatResult, type Result } from '@cni/spec';
import {
  CniConfig,
  ConfigError,
  errorCode,
  loadConfList,
  type GcArgs,
  type NetworkConfigList,
  type PluginExec,
  type RuntimeConf,
} from '@cni/libcni';
import { runNetnsCommand } from './netns.ts';
import { summarizeResult } from './summary.ts';

/** Exit statuses a script can branch on. */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** A plugin (or the runtime side) reported an error; the CNI code is on stderr. */
  FAILED: 1,
  /** The command line was wrong: see `--help`. */
  USAGE: 2,
  /** The network configuration was not found or does not parse. */
  CONFIG: 3,
  /** STATUS: a plugin is not ready for ADD (CNI code 50 or 51). */
  NOT_READY: 4,
} as const;

/** What the tool reads and writes; tests pass their own. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Runs plugins; default libcni's executable runner. */
  exec?: PluginExec;
}

/** The default folder of network configurations, as upstream's cnitool. */
export const DEFAULT_NETCONFPATH = '/etc/cni/net.d';
/** Where named network namespaces live. */
export const NETNS_RUN_DIR = '/var/run/netns';

class UsageError extends Error {}

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CNI_ERROR_CODES).map(([name, code]) => [code, name.toLowerCase().replaceAll('_', ' ')]),
);

const MAIN_HELP = `cnitool: run CNI network configurations against a network namespace

Usage:
  cnitool <command> [flags] <network-name> <netns>
  cnitool netns <add|del|list> [name]

Commands:
  add      add the container's interface to the network, print the result
  check    check the attachment against the cached result (spec 0.4.0 and later)
  del      remove the attachment (plugins in reverse order)
  gc       delete cached attachments of the network, then send GC to its plugins
  status   ask every plugin whether it is ready for ADD (spec 1.1.0 and later)
  netns    add, delete or list named network namespaces (through iproute2)

Environment:
  NETCONFPATH    folder of .conflist/.conf files (default /etc/cni/net.d)
  CNI_PATH       folders of plugin executables, separated by ':'
  CNI_IFNAME     interface name in the container (default eth0; -i wins)
  CNI_ARGS       plugin arguments, 'K=V;K=V'
  CAP_ARGS       capability arguments as a JSON object, e.g. '{"portMappings":[...]}'
  CNI_CACHE_DIR  result cache folder (default /var/lib/cni)

Flags:
  -i, --ifname <name>   interface name
      --json            print the raw result (add) instead of a summary
  -h, --help            help for cnitool or a command

Exit status: 0 done, 1 a plugin failed (the CNI code is printed), 2 usage,
3 configuration not found or invalid, 4 STATUS: not ready.
The netns argument is a path, or the name of a namespace in /var/run/netns.
`;

const COMMAND_HELP: Record<string, string> = {
  add: `Usage: cnitool add [-i ifname] [--json] <network-name> <netns>

Runs ADD of every plugin of the network in order and prints a summary of the result
(interfaces, addresses, routes, DNS); --json prints the result as the plugins gave it.
The container ID is "cnitool-" and 20 hex digits of the SHA-512 of the netns path, as upstream's
cnitool makes it, so later check/del find the cached result.
`,
  check: `Usage: cnitool check [-i ifname] <network-name> <netns>

Runs CHECK of every plugin with the cached result of ADD. Needs spec 0.4.0 or later; does nothing
when the configuration sets disableCheck.
`,
  del: `Usage: cnitool del [-i ifname] <network-name> <netns>

Runs DEL of every plugin in reverse order with the cached result, then removes the cache.
`,
  gc: `Usage: cnitool gc [--keep <containerID>/<ifname>]... <network-name> [netns]

Without --keep, as upstream's cnitool: every cached attachment of the network is deleted, then (spec
1.1.0 and later) every plugin receives GC. With --keep, the attachments named are kept and sent to
the plugins as cni.dev/valid-attachments.
`,
  status: `Usage: cnitool status <network-name> [netns]

Runs STATUS of every plugin (spec 1.1.0 and later) and stops at the first that is not ready
(exit status 4 for CNI codes 50 and 51).
`,
  netns: `Usage: cnitool netns add <name> | del <name> | list

Adds (with loopback up), deletes or lists named network namespaces in /var/run/netns, through
iproute2 ('ip netns').
`,
};

interface Parsed {
  command: string;
  positional: string[];
  ifName: string | undefined;
  json: boolean;
  help: boolean;
  keep: string[];
}

function parseArgs(argv: readonly string[]): Parsed {
  const parsed: Parsed = { command: '', positional: [], ifName: undefined, json: false, help: false, keep: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (flag: string) => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`flag ${flag} needs a value`);
      return next;
    };
    if (arg === '-h' || arg === '--help' || arg === 'help') parsed.help = true;
    else if (arg === '--json') parsed.json = true;
    else if (arg === '-i' || arg === '--ifname') parsed.ifName = value(arg);
    else if (arg.startsWith('--ifname=')) parsed.ifName = arg.slice('--ifname='.length);
    else if (arg === '--keep') parsed.keep.push(value(arg));
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown flag ${arg}`);
    else if (parsed.command === '') parsed.command = arg;
    else parsed.positional.push(arg);
  }
  return parsed;
}

/** upstream cnitool's parseArgs: strict `K=V;K=V`, empty keys or values refused. */
export function parseCniArgs(text: string): [string, string][] {
  return text.split(';').map((pair) => {
    const parts = pair.split('=');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new UsageError(`invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
    return [parts[0]!, parts[1]!];
  });
}

/** The netns path of an argument: a path as given (made absolute), or a name in /var/run/netns. */
export function netnsPath(arg: string): string {
  if (!arg.includes('/') && !existsSync(arg) && existsSync(`${NETNS_RUN_DIR}/${arg}`)) return `${NETNS_RUN_DIR}/${arg}`;
  return resolve(arg);
}

/** upstream cnitool's container ID: `cnitool-` + the first 10 bytes of SHA-512(netns path), in hex. */
export function containerIdFor(netns: string): string {
  return `cnitool-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;
}

function runtimeConf(parsed: Parsed, env: CliIo['env'], netnsArg: string | undefined): RuntimeConf {
  let capabilityArgs: Record<string, unknown> | undefined;
  if (env.CAP_ARGS) {
    try {
      capabilityArgs = JSON.parse(env.CAP_ARGS) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`CAP_ARGS is not JSON: ${(error as Error).message}`);
    }
    if (typeof capabilityArgs !== 'object' || capabilityArgs === null || Array.isArray(capabilityArgs)) {
      throw new UsageError('CAP_ARGS must be a JSON object');
    }
  }
  const netns = netnsArg === undefined ? '' : netnsPath(netnsArg);
  return {
    containerId: netns === '' ? 'cnitool' : containerIdFor(netns),
    netns,
    ifName: parsed.ifName || env.CNI_IFNAME || 'eth0',
    args: env.CNI_ARGS ? parseCniArgs(env.CNI_ARGS) : undefined,
    capabilityArgs,
  };
}

function parseKeep(keep: readonly string[]): GcArgs | undefined {
  if (keep.length === 0) return undefined;
  return {
    validAttachments: keep.map((entry) => {
      const at = entry.lastIndexOf('/');
      if (at <= 0 || at === entry.length - 1) throw new UsageError(`--keep wants <containerID>/<ifname>, got ${JSON.stringify(entry)}`);
      return { containerID: entry.slice(0, at), ifname: entry.slice(at + 1) };
    }),
  };
}

/** One line: the message, then the CNI code and its name when there is one. */
export function errorLine(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replaceAll('\n', '; ');
  const code = errorCode(error);
  if (code === undefined) return `cnitool: ${message}`;
  const name = CODE_NAMES[code];
  return `cnitool: ${message} (CNI code ${code}${name ? `: ${name}` : ''})`;
}

/**
 * Run cnitool with `argv` (without node and the script); resolves to the exit status.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (error) {
    io.stderr.write(`cnitool: ${(error as Error).message}\nRun 'cnitool --help' for usage.\n`);
    return EXIT.USAGE;
  }
  const { command } = parsed;
  if (command === '' || (parsed.help && !(command in COMMAND_HELP))) {
    (parsed.help ? io.stdout : io.stderr).write(MAIN_HELP);
    return parsed.help ? EXIT.OK : EXIT.USAGE;
  }
  if (!(command in COMMAND_HELP)) {
    io.stderr.write(`cnitool: unknown command ${JSON.stringify(command)}\nRun 'cnitool --help' for usage.\n`);
    return EXIT.USAGE;
  }
  if (parsed.help) {
    io.stdout.write(COMMAND_HELP[command]!);
    return EXIT.OK;
  }
  try {
    if (command === 'netns') return await runNetnsCommand(parsed.positional, io);
    return await runNetworkCommand(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`cnitool: ${error.message}\nRun 'cnitool ${command} --help' for usage.\n`);
      return EXIT.USAGE;
    }
    io.stderr.write(`${errorLine(error)}\n`);
    if (ConfigError.isInstance(error)) return EXIT.CONFIG;
    const code = errorCode(error);
    if (command === 'status' && (code === CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE || code === CNI_ERROR_CODES.LIMITED_CONNECTIVITY)) {
      return EXIT.NOT_READY;
    }
    return EXIT.FAILED;
  }
}

async function runNetworkCommand(parsed: Parsed, io: CliIo): Promise<number> {
  const { command, positional } = parsed;
  const needsNetns = command === 'add' || command === 'check' || command === 'del';
  const [network, netnsArg, ...extra] = positional;
  if (network === undefined || (needsNetns && netnsArg === undefined)) {
    throw new UsageError(needsNetns ? 'network name and namespace are required' : 'network name is required');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const env = io.env;
  const list: NetworkConfigList = loadConfList(env.NETCONFPATH || DEFAULT_NETCONFPATH, network);
  const rt = runtimeConf(parsed, env, netnsArg);
  const cni = new CniConfig({
    path: (env.CNI_PATH ?? '').split(':').filter((dir) => dir !== ''),
    cacheDir: env.CNI_CACHE_DIR || undefined,
    exec: io.exec,
    env,
    stderr: io.stderr,
  });
  switch (command) {
    case 'add': {
      const result: Result = await cni.addNetworkList(list, rt);
      io.stdout.write(parsed.json ? `${formatResult(result)}\n` : summarizeResult(result, { network: list.name, containerId: rt.containerId, netns: rt.netns ?? '', ifName: rt.ifName }));
      return EXIT.OK;
    }
    case 'check':
      await cni.checkNetworkList(list, rt);
      return EXIT.OK;
    case 'del':
      await cni.delNetworkList(list, rt);
      return EXIT.OK;
    case 'gc':
      await cni.gcNetworkList(list, parseKeep(parsed.keep));
      return EXIT.OK;
    default:
      await cni.getStatusNetworkList(list);
      io.stdout.write(`network ${list.name}: ready\n`);
      return EXIT.OK;
  }
}
