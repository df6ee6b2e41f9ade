// SPDX-License-Identifier: Apache-2.0
// Shared by the bridge kernel tests: the built executable run as a runtime runs it, in the test's
// host namespace, with host-local from the bundle as IPAM and its leases in the test's folder.
// Only test files may import @cni/testkit (scripts/lint.mjs): they hand its execPlugin in.
import { existsSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The bundle's executables, found upwards from this file (the VM tier bundles test files, which
 * moves `import.meta.url`), or CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
 */
export const BIN = process.env['CNI_BUNDLE_BIN'] ?? findUp(dirname(fileURLToPath(import.meta.url)), 'apps/cni-bundle/dist/bin');

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) return join(from, '../../../../../..', relative);
  }
}
export const DEBIAN = '/usr/lib/cni';

/**
 * What stays on purpose after DEL: the bridge (upstream never deletes it), the empty nat tables
 * iptables and nftables made, and the nftables tables upstream's names share between attachments.
 */
export const STAYS = [/"cni0"/, /cni0/, /nftTables: ip6? nat$/, /nftTables: inet cni_plugins_masquerade$/, /nftTables: bridge nat$/, /iptables.* nat/];

/** A bridge plugin configuration with host-local on `subnets` (each its own range set). */
export function netConf(netns: Pick<Namespaces, 'dir'>, cniVersion: string, extra: Record<string, unknown> = {}, subnets = ['10.88.0.0/24']) {
  return {
    cniVersion,
    name: 'brnet',
    type: 'bridge',
    ipam: { type: 'host-local', dataDir: netns.dir, ranges: subnets.map((subnet) => [{ subnet }]) },
    ...extra,
  };
}

/** A namespace as @cni/testkit makes it. */
interface Namespace {
  readonly name: string;
  readonly path: string;
}

/** The parts of @cni/testkit's TestNetns these helpers use. */
interface Namespaces {
  readonly host: Namespace;
  readonly container: Namespace;
  readonly dir: string;
}

/** A plugin run's options as @cni/testkit's `execPlugin` takes them. */
interface RunOptions {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';
  netns?: string | Namespace;
  hostNetns?: Namespace;
  cniPath?: string;
  containerId?: string;
  ifName?: string;
  args?: string;
  conf?: unknown;
}

/**
 * A runner of the built bridge in `netns.host` for the test's container (or `container`), with
 * the bundle in CNI_PATH: `const runBridge = bridgeRunner(execPlugin)`.
 */
export function bridgeRunner<R>(exec: (path: string, options: RunOptions) => Promise<R>) {
  return (netns: Namespaces, options: Omit<RunOptions, 'hostNetns'> & { container?: Namespace }): Promise<R> => {
    const { container, ...rest } = options;
    return exec(`${BIN}/bridge`, { netns: container ?? netns.container, hostNetns: netns.host, cniPath: BIN, ...rest });
  };
}

/** The addresses host-local holds leases for in the test's folder. */
export function leases(netns: Pick<Namespaces, 'dir'>, network = 'brnet'): string[] {
  const dir = `${netns.dir}/${network}`;
  return existsSync(dir) ? readdirSync(dir).filter((file) => isIP(file) !== 0).sort() : [];
}

/** Replace generated names, MACs and the netns path so that two results can be compared. */
export function normaliseResult(result: unknown, netnsPath: string): unknown {
  return JSON.parse(
    JSON.stringify(result)
      .replaceAll(netnsPath, 'NETNS')
      .replace(/veth[0-9a-f]{8}/g, 'VETH')
      .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"MAC"'),
  );
}

export const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
