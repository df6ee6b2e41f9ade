// SPDX-License-Identifier: Apache-2.0
import { payloadDir } from '../runtime/payload.ts';
import { install, readAbout } from './install.ts';

const usage = `usage: cni-bundle <command>

commands:
  install --dir <folder>   install the bundle into <folder> (e.g. /opt/cni/bin), atomically,
                           every plugin a link to one executable
    [--any-arch]           even when built for another architecture (to repack it, not to run it)
    [--resident]           also put the resident daemon's systemd units in place and start
    [--unit-dir <folder>]  its socket (units in /etc/systemd/system by default)
  version                  the bundle's version and the Node runtime it carries
  list                     the plugins it ships
  daemon [flags]           run the resident daemon: plugins hand it their requests (docs/resident.md)
  daemon status            what a running daemon is doing
`;

/**
 * The `cni-bundle` command. Resolves to its exit status: 0, 1 when the command failed, 2 for a
 * usage error.
 */
export async function runTool(args: readonly string[]): Promise<number> {
  const payload = payloadDir();
  if (payload === undefined) {
    process.stderr.write('cni-bundle: not running from a built bundle\n');
    return (process.exitCode = 1);
  }
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'install': {
        const dir = option(rest, '--dir');
        if (dir === undefined) return usageError('install needs --dir <folder>');
        const report = install(payload, dir, { anyArch: args.includes('--any-arch') });
        if (args.includes('--resident')) {
          const { installResident } = await import('./resident.ts');
          const resident = installResident(report.payload, dir, option(rest, '--unit-dir'));
          process.stdout.write(
            `wrote ${resident.units.join(' ')}\n` +
              (resident.commands.length > 0
                ? resident.commands.map((c) => `ran ${c.join(' ')}\n`).join('')
                : 'systemd does not run this host: enable cni-bundle.socket when it does\n'),
          );
        }
        process.stdout.write(
          `installed ${report.linked.length - 1} plugins into ${dir} (${report.copied ? 'payload copied' : 'payload already present'}: ${report.payload})\n` +
            (report.removedLinks.length > 0 ? `removed links: ${report.removedLinks.join(' ')}\n` : '') +
            (report.removedPayloads.length > 0 ? `removed old payloads: ${report.removedPayloads.join(' ')}\n` : ''),
        );
        return 0;
      }
      case 'version': {
        const about = readAbout(payload);
        process.stdout.write(`cni-bundle ${about.version} (node ${about.node}${about.arch ? ` linux-${about.arch}` : ''}, payload ${about.id})\n`);
        return 0;
      }
      case 'daemon': {
        const { runDaemonCommand } = await import('../daemon/cli.ts');
        return (process.exitCode = await runDaemonCommand(payload, rest));
      }
      case 'list':
        process.stdout.write(`${readAbout(payload).plugins.join('\n')}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(usage);
        return command === undefined ? 2 : 0;
      default:
        return usageError(`unknown command "${command}"`);
    }
  } catch (error) {
    process.stderr.write(`cni-bundle: ${error instanceof Error ? error.message : String(error)}\n`);
    return (process.exitCode = 1);
  }
}

function usageError(message: string): number {
  process.stderr.write(`cni-bundle: ${message}\n${usage}`);
  return (process.exitCode = 2);
}

/** `--name value` or `--name=value`. */
function option(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}
