// SPDX-License-Identifier: Apache-2.0
import { netnsName, run, type NetnsRef } from './exec.ts';

// Setup helpers drive iproute2, never our own netlink code: a fixture must not depend on the code
// under test.

function ip(ns: NetnsRef, args: readonly string[]): Promise<unknown> {
  return run(['ip', '-n', netnsName(ns), ...args]);
}

/** One end of a veth pair: the namespace it lives in and its name there. */
export interface VethEnd {
  ns: NetnsRef;
  name: string;
}

/** Options of {@link addVethPair}. */
export interface VethOptions {
  /** Addresses (`10.0.0.1/24`, `fd00::1/64`) given to the first end. */
  addresses?: readonly string[];
  /** Addresses given to the peer. */
  peerAddresses?: readonly string[];
  mtu?: number;
  /** Bring both ends up. Default true. */
  up?: boolean;
}

/**
 * Makes a veth pair whose ends live in two namespaces (or both in one), created directly in the
 * first so that nothing ever appears in the machine's own namespace.
 *
 * Equivalent to `ip -n A link add a type veth peer name b netns B`.
 */
export async function addVethPair(end: VethEnd, peer: VethEnd, options: VethOptions = {}): Promise<void> {
  const mtu = options.mtu === undefined ? [] : ['mtu', String(options.mtu)];
  await ip(end.ns, ['link', 'add', end.name, ...mtu, 'type', 'veth', 'peer', 'name', peer.name, ...mtu, 'netns', netnsName(peer.ns)]);
  for (const address of options.addresses ?? []) await addAddress(end.ns, end.name, address);
  for (const address of options.peerAddresses ?? []) await addAddress(peer.ns, peer.name, address);
  if (options.up ?? true) await Promise.all([setLinkUp(end.ns, end.name), setLinkUp(peer.ns, peer.name)]);
}

/** Options of {@link addBridge}. */
export interface BridgeOptions {
  /** Addresses given to the bridge. */
  addresses?: readonly string[];
  /** Bring it up. Default true. */
  up?: boolean;
  /** Extra `type bridge` arguments, e.g. `['vlan_filtering', '1']`. */
  bridgeArgs?: readonly string[];
}

/** Makes a Linux bridge in a namespace. Equivalent to `ip -n NS link add NAME type bridge`. */
export async function addBridge(ns: NetnsRef, name: string, options: BridgeOptions = {}): Promise<void> {
  await ip(ns, ['link', 'add', name, 'type', 'bridge', ...(options.bridgeArgs ?? [])]);
  for (const address of options.addresses ?? []) await addAddress(ns, name, address);
  if (options.up ?? true) await setLinkUp(ns, name);
}

/** Attaches a link to a bridge (or another master). Equivalent to `ip -n NS link set DEV master MASTER`. */
export async function setMaster(ns: NetnsRef, dev: string, master: string): Promise<void> {
  await ip(ns, ['link', 'set', dev, 'master', master]);
}

/** Brings a link up. Equivalent to `ip -n NS link set DEV up`. */
export async function setLinkUp(ns: NetnsRef, dev: string): Promise<void> {
  await ip(ns, ['link', 'set', dev, 'up']);
}

/** Adds an address to a link; IPv6 ones without duplicate address detection, so they are usable at once. */
export async function addAddress(ns: NetnsRef, dev: string, address: string): Promise<void> {
  await ip(ns, ['addr', 'add', address, 'dev', dev, ...(address.includes(':') ? ['nodad'] : [])]);
}

/** Deletes a link when it exists; a missing link is not an error. */
export async function deleteLink(ns: NetnsRef, dev: string): Promise<void> {
  await run(['ip', '-n', netnsName(ns), 'link', 'del', dev], { allowFailure: true });
}

/** Adds a route. Equivalent to `ip -n NS route add DST [via GW] dev DEV`. */
export async function addRoute(ns: NetnsRef, dst: string, options: { via?: string; dev?: string; table?: string | number } = {}): Promise<void> {
  await ip(ns, [
    ...(dst.includes(':') || options.via?.includes(':') ? ['-6'] : []),
    'route', 'add', dst,
    ...(options.via === undefined ? [] : ['via', options.via]),
    ...(options.dev === undefined ? [] : ['dev', options.dev]),
    ...(options.table === undefined ? [] : ['table', String(options.table)]),
  ]);
}

/**
 * Writes a sysctl inside a namespace, e.g. `net.ipv4.ip_forward`. /proc/sys/net shows the namespace
 * of the process that opens it, so the write happens in `ip netns exec`; `tee` (coreutils) rather than
 * `sysctl` (procps, not always installed).
 */
export async function setSysctl(ns: NetnsRef, key: string, value: string | number): Promise<void> {
  const path = `/proc/sys/${key.replaceAll('.', '/')}`;
  await run(['ip', 'netns', 'exec', netnsName(ns), 'tee', path], { input: `${value}\n` });
}

/** Reads a sysctl inside a namespace, trimmed. */
export async function readSysctl(ns: NetnsRef, key: string): Promise<string> {
  const path = `/proc/sys/${key.replaceAll('.', '/')}`;
  const { stdout } = await run(['ip', 'netns', 'exec', netnsName(ns), 'cat', path]);
  return stdout.trim();
}

/**
 * Waits until no IPv6 address in the namespace is tentative: a tentative address answers nothing, so
 * a test that sends IPv6 right after adding addresses loses packets while DAD runs (a second or two).
 * Throws after `timeoutMs`.
 */
export async function waitForIpv6Dad(ns: NetnsRef, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await run(['ip', '-n', netnsName(ns), '-j', '-6', 'addr', 'show', 'tentative']);
    const links = JSON.parse(stdout.trim() === '' ? '[]' : stdout) as { addr_info?: unknown[] }[];
    if (links.every((link) => (link.addr_info ?? []).length === 0)) return;
    if (Date.now() > deadline) throw new Error(`IPv6 addresses in netns "${netnsName(ns)}" still tentative after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
