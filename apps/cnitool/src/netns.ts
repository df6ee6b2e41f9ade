// SPDX-License-Identifier: Apache-2.0
import { execFile } from 'node:child_process';
import type { CliIo } from './main.ts';

/** Runs iproute2 with an argument array (never a shell); rejects with its stderr. */
function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(' ')}: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
  });
}

const validName = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * `cnitool netns add|del|list`: named network namespaces through `ip netns`, loopback up in a
 * new one (a plugin expects a usable lo, as runtimes give it). Resolves to the exit status.
 */
export async function runNetnsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [action, name, ...extra] = args;
  const usage = (message: string) => {
    io.stderr.write(`cnitool: ${message}\nRun 'cnitool netns --help' for usage.\n`);
    return 2;
  };
  if (extra.length > 0) return usage(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (action === 'list') {
    if (name !== undefined) return usage(`unexpected argument ${JSON.stringify(name)}`);
    const out = (await ip(['-j', 'netns', 'list'])).trim();
    const entries = out === '' ? [] : (JSON.parse(out) as { name: string }[]);
    for (const entry of entries) io.stdout.write(`${entry.name}\n`);
    return 0;
  }
  if (action !== 'add' && action !== 'del') return usage(`netns wants add, del or list, got ${JSON.stringify(action ?? '')}`);
  if (name === undefined) return usage(`netns ${action} needs a name`);
  if (!validName.test(name)) return usage(`invalid namespace name ${JSON.stringify(name)}`);
  if (action === 'add') {
    await ip(['netns', 'add', name]);
    try {
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (error) {
      await ip(['netns', 'del', name]).catch(() => undefined);
      throw error;
    }
    io.stdout.write(`/var/run/netns/${name}\n`);
  } else {
    await ip(['netns', 'del', name]);
  }
  return 0;
}
