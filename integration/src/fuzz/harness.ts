// SPDX-License-Identifier: Apache-2.0
// The fuzz tier's plumbing: every plugin value runs in this process through skel's runPlugin, with
// its IPAM delegated in-process too; the process itself lives in a network namespace of its own
// (scripts/run-tier.mjs fuzz starts vitest under `ip netns exec`), which is each plugin's "host",
// and each plugin gets a fresh container namespace. Debian's reference (/usr/lib/cni, v1.1.1)
// answers the same requests where it has the plugin.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plugins } from '@cni/cni-bundle';
import { createMultinet } from '@cni/multinet';
import { delegateError, execDelegate, runPlugin, type CniPlugin, type DelegateInvocation } from '@cni/skel';
import { parseResult } from '@cni/spec';
import {
  createNetns,
  deleteNetns,
  execPlugin,
  parsePluginOutput,
  registerTeardown,
  run,
  type FuzzCase,
  type PluginRunResult,
  type TestNamespace,
} from '@cni/testkit';

/**
 * The plugins multinet may delegate to, by type: every plugin the bundle ships but calico-ipam,
 * whose every request waits on etcd, and the bundle's multinet, which runs its delegates as
 * executables (the one below runs them in this process).
 */
const DELEGATES: Record<string, CniPlugin> = Object.fromEntries(Object.entries(plugins).filter(([type]) => type !== 'multinet' && type !== 'calico-ipam'));

/**
 * Every plugin of the workspace the tier fuzzes, by its type. multinet delegates through libcni
 * to the others in this process, as the bundle's multinet does, and their IPAM in-process too.
 */
export const PLUGINS: Readonly<Record<string, CniPlugin>> = {
  ...DELEGATES,
  multinet: createMultinet({
    inProcess: { plugins: DELEGATES, run: (plugin, io) => runPlugin(plugin, { ...io, delegateRunner: delegateInProcess }) },
  }),
};

/** Where Debian's reference plugins are. */
export const REFERENCE_DIR = '/usr/lib/cni';

/**
 * True when this process runs in the namespace scripts/run-tier.mjs made for the fuzz tier (named
 * by CNI_FUZZ_NETNS): the tier acts on its "host" namespace, which must never be the machine's.
 */
export function inOwnNetns(): boolean {
  const name = process.env['CNI_FUZZ_NETNS'];
  if (name === undefined || name === '') return false;
  try {
    return statSync(`/var/run/netns/${name}`).ino === statSync('/proc/self/ns/net').ino;
  } catch {
    return false;
  }
}

/** The machine's folders where plugins keep state by default (host-local's store, tuning's backups, the dhcp socket). */
export const DEFAULT_FOLDERS: readonly string[] = ['/var/lib/cni', '/run/cni'];

/**
 * A dropped `dataDir` sends a plugin to its default folder, and a plugin that ignores a wrong type
 * does too: the fuzz tier must see that happen without touching the machine's folders, which other
 * tiers' leak checks watch meanwhile. `ip netns exec` gave this process tree a mount namespace of
 * its own (its mounts do not propagate back), so a tmpfs over each default folder is private to
 * the tier, and the leak check still sees what lands there.
 */
export async function privateDefaultFolders(): Promise<void> {
  for (const folder of DEFAULT_FOLDERS) {
    mkdirSync(folder, { recursive: true });
    await run(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=0755', 'cnifuzz', folder]);
  }
}

/** Undoes {@link privateDefaultFolders}. */
export async function releaseDefaultFolders(): Promise<void> {
  for (const folder of [...DEFAULT_FOLDERS].reverse()) await run(['umount', folder], { allowFailure: true });
}

/** A delegate runner that runs the workspace's plugins in this process, and anything else as an executable. */
export async function delegateInProcess(invocation: DelegateInvocation): Promise<Uint8Array> {
  const plugin = PLUGINS[invocation.type];
  if (!plugin) return execDelegate(invocation);
  let stdout = '';
  let exitCode = 0;
  const status = await runPlugin(plugin, {
    env: invocation.env,
    stdin: invocation.stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: invocation.stderr,
    exit: (code: number) => {
      exitCode = code;
    },
    delegateRunner: delegateInProcess,
  });
  if ((status ?? exitCode) !== 0) throw delegateError('exit status 1', Buffer.from(stdout), new Uint8Array());
  return Buffer.from(stdout);
}

/** Runs `plugin` in this process with exactly `env` and `conf` on stdin, its IPAM in-process too. */
export async function runInProcessWithEnv(plugin: CniPlugin, env: Record<string, string>, conf: unknown): Promise<PluginRunResult> {
  let stdout = '';
  let stderr = '';
  let exitCode: number | undefined;
  const status = await runPlugin(plugin, {
    env,
    stdin: JSON.stringify(conf),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    exit: (code: number) => {
      exitCode ??= code;
    },
    delegateRunner: delegateInProcess,
  });
  return parsePluginOutput(exitCode ?? status, stdout, stderr);
}

/** The fresh things one plugin's fuzzing gets: a container namespace, a folder, a network name. */
export interface FuzzPlace {
  readonly container: TestNamespace;
  /** A fresh folder (dataDir, backups), removed at the end. */
  readonly dir: string;
  /** CNI_PATH for our runs: a folder with an empty file per plugin type, so skel finds the delegates it runs in-process. */
  readonly cniPath: string;
  /** A network name of its own, so that anything written under /var/lib/cni/networks is this run's. */
  readonly network: string;
  readonly containerId: string;
}

/** Makes a {@link FuzzPlace} and removes it when the test ends. */
export async function useFuzzPlace(label: string): Promise<FuzzPlace> {
  const id = randomBytes(3).toString('hex');
  // Named after the tier's run (cnifuzz-host-<pid>), so that a killed run's namespaces are found
  // and removed by the next one (scripts/run-tier.mjs).
  const run = /^cnifuzz-host-(\d+)$/.exec(process.env['CNI_FUZZ_NETNS'] ?? '')?.[1] ?? String(process.pid);
  const container = await createNetns(`cnifuzz-${run}-${id}-c`);
  const dir = join(tmpdir(), `cnifuzz-${label}-${id}`);
  const network = `fuzz-${label}-${id}`;
  registerTeardown(async () => {
    await deleteNetns(container);
    rmSync(dir, { recursive: true, force: true });
    rmSync(join('/var/lib/cni/networks', network), { recursive: true, force: true });
  });
  const cniPath = join(dir, 'bin');
  mkdirSync(cniPath, { recursive: true });
  for (const type of Object.keys(PLUGINS)) writeFileSync(join(cniPath, type), '');
  return { container, dir, cniPath, network, containerId: `fuzz${id}` };
}

/** The CNI variables of a request in `place`, with the target's `extra` and then a case's changes applied (undefined unsets). */
export function caseEnv(
  place: FuzzPlace,
  command: string,
  fuzzCase: FuzzCase,
  cniPath = place.cniPath,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: place.containerId,
    CNI_NETNS: place.container.path,
    CNI_IFNAME: 'eth0',
    CNI_PATH: cniPath,
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    ...extra,
    ...fuzzCase.env,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The configuration of DEL after a successful ADD: the same, with the result as prevResult. */
export function delConf(conf: Record<string, unknown>, result: unknown): Record<string, unknown> {
  return { ...conf, prevResult: result };
}

/** A problem with a result that does not parse as a result of the configuration's version, or undefined. */
export function resultProblem(result: unknown, conf: Record<string, unknown>): string | undefined {
  try {
    parseResult(result, typeof conf['cniVersion'] === 'string' ? conf['cniVersion'] : undefined);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** ADD then DEL of the reference executable for the same request; its ADD's answer. */
export async function referenceAnswer(type: string, place: FuzzPlace, fuzzCase: FuzzCase): Promise<PluginRunResult> {
  const binary = join(REFERENCE_DIR, type);
  const base = { containerId: place.containerId, netns: place.container.path, ifName: 'eth0', cniPath: REFERENCE_DIR, timeoutMs: 15_000 };
  const add = await execPlugin(binary, { ...base, command: 'ADD', conf: fuzzCase.conf });
  // Whatever it answered, undo it, so that the next request starts from the same state.
  await execPlugin(binary, { ...base, command: 'DEL', conf: add.exitCode === 0 ? delConf(fuzzCase.conf, add.result) : fuzzCase.conf }).catch(() => undefined);
  return add;
}
