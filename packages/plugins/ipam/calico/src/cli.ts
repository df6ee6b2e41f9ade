// SPDX-License-Identifier: Apache-2.0
// The pool and usage commands (`calico-ipam pool ...`, `calico-ipam show`): what `calicoctl`
// gives for IPAM, against the same etcd.
import { EtcdClient } from './lib/etcd.ts';
import { CalicoIpam } from './lib/ipam.ts';
import { createPool, deletePool, listPools, setPoolDisabled } from './lib/pools.ts';
import { readUsage } from './lib/usage.ts';

/** The usage text. */
export const CLI_USAGE = `usage: calico-ipam <command> [flags]     (the plugin itself when CNI_COMMAND is set)
  pool create --name NAME --cidr CIDR [--block-size N] [--disabled] [--nat-outgoing]
  pool list
  pool disable NAME | pool enable NAME | pool delete NAME
  show [--show-blocks] [--json]        usage per pool, block and node
  config [--strict-affinity true|false] [--auto-allocate-blocks true|false] [--max-blocks-per-host N]
  release-empty --node NODE            release NODE's blocks that hold no address
common flags: --etcd-endpoints URLS (or ETCD_ENDPOINTS), --etcd-cert-file, --etcd-key-file, --etcd-ca-cert-file
`;

/** The commands the CLI answers (the executable tells them from a plugin run by its first argument). */
export const CLI_COMMANDS = ['pool', 'show', 'config', 'release-empty', 'help', '--help'] as const;

interface Parsed {
  positional: string[];
  flags: Map<string, string>;
}

function parse(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (['show-blocks', 'json', 'disabled', 'nat-outgoing'].includes(arg.slice(2))) flags.set(arg.slice(2), 'true');
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`flag ${arg} needs a value`);
      flags.set(arg.slice(2), value);
    }
  }
  return { positional, flags };
}

function bool(text: string, flag: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new Error(`--${flag} takes true or false, not "${text}"`);
}

/** Run one CLI command; resolves to the exit status. Output goes to `out`, errors to `err`. */
export async function runCli(argv: readonly string[], io: { out: (text: string) => void; err: (text: string) => void; env?: NodeJS.ProcessEnv } = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  let client: EtcdClient | undefined;
  try {
    const { positional, flags } = parse(argv);
    const [command, sub, name] = positional;
    if (command === undefined || command === 'help' || flags.has('help')) {
      io.out(CLI_USAGE);
      return command === undefined ? 2 : 0;
    }
    const env = io.env ?? process.env;
    const endpoints = (flags.get('etcd-endpoints') ?? env['ETCD_ENDPOINTS'] ?? 'http://127.0.0.1:2379').split(',').filter(Boolean);
    client = new EtcdClient({ endpoints, certFile: flags.get('etcd-cert-file'), keyFile: flags.get('etcd-key-file'), caFile: flags.get('etcd-ca-cert-file') });
    if (command === 'pool') {
      if (sub === 'create') {
        const spec = { name: flags.get('name') ?? '', cidr: flags.get('cidr') ?? '' } as Parameters<typeof createPool>[1];
        if (flags.has('block-size')) spec.blockSize = Number(flags.get('block-size'));
        if (flags.has('disabled')) spec.disabled = true;
        if (flags.has('nat-outgoing')) spec.natOutgoing = true;
        const pool = await createPool(client, spec);
        io.out(`created pool ${pool.name} ${pool.cidr.toString()} (blocks /${pool.blockSize})\n`);
        return 0;
      }
      if (sub === 'list') {
        for (const pool of await listPools(client)) io.out(`${pool.name}\t${pool.cidr.toString()}\t/${pool.blockSize}\t${pool.disabled ? 'disabled' : 'enabled'}\n`);
        return 0;
      }
      if ((sub === 'disable' || sub === 'enable') && name) {
        await setPoolDisabled(client, name, sub === 'disable');
        io.out(`pool ${name} ${sub}d\n`);
        return 0;
      }
      if (sub === 'delete' && name) {
        await deletePool(client, name);
        io.out(`pool ${name} deleted\n`);
        return 0;
      }
      throw new Error(`unknown pool command "${sub ?? ''}"`);
    }
    if (command === 'show') {
      const usage = await readUsage(new CalicoIpam(client, ''));
      if (flags.has('json')) {
        io.out(`${JSON.stringify(usage, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
        return 0;
      }
      io.out('POOL\tCIDR\tSIZE\tIN USE\tFREE\tBLOCKS\n');
      for (const p of usage.pools) io.out(`${p.name}${p.disabled ? ' (disabled)' : ''}\t${p.cidr}\t${p.size}\t${p.inUse}\t${p.free}\t${p.blocks}\n`);
      if (flags.has('show-blocks')) {
        io.out('\nBLOCK\tPOOL\tNODE\tSIZE\tIN USE\n');
        for (const b of usage.blocks) io.out(`${b.cidr}\t${b.pool ?? '-'}\t${b.node ?? '-'}\t${b.size}\t${b.inUse}\n`);
      }
      io.out('\nNODE\tBLOCKS\tIN USE\n');
      for (const [node, n] of Object.entries(usage.nodes)) io.out(`${node}\t${n.blocks}\t${n.inUse}\n`);
      return 0;
    }
    if (command === 'config') {
      const ipam = new CalicoIpam(client, '');
      const config = await ipam.config();
      if (flags.has('strict-affinity')) config.strictAffinity = bool(flags.get('strict-affinity')!, 'strict-affinity');
      if (flags.has('auto-allocate-blocks')) config.autoAllocateBlocks = bool(flags.get('auto-allocate-blocks')!, 'auto-allocate-blocks');
      if (flags.has('max-blocks-per-host')) config.maxBlocksPerHost = Number(flags.get('max-blocks-per-host'));
      if (flags.size > 0) await ipam.setConfig(config);
      io.out(`${JSON.stringify(config)}\n`);
      return 0;
    }
    if (command === 'release-empty') {
      const node = flags.get('node');
      if (!node) throw new Error('release-empty needs --node');
      const released = await new CalicoIpam(client, node).releaseEmptyBlocks();
      io.out(`released ${released.length} block(s)${released.length ? `: ${released.join(', ')}` : ''}\n`);
      return 0;
    }
    throw new Error(`unknown command "${command}"`);
  } catch (error) {
    io.err(`calico-ipam: ${(error as Error).message}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
