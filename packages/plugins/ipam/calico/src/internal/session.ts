// SPDX-License-Identifier: Apache-2.0
// One verb's use of the datastore: the client, the node-wide lock, and errors turned into CNI errors.
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { EtcdClient, EtcdError } from '../lib/etcd.ts';
import { IpamError } from '../lib/errors.ts';
import { CalicoIpam } from '../lib/ipam.ts';
import type { CalicoIpamConf } from '../net-conf.ts';

// Clients by what they connect to. An executable makes one per run; a resident worker keeps it,
// and with it the kept-alive connections (the agent unrefs idle sockets, so they never hold a
// process open). TLS files are part of the key with their mtime, so a rotated certificate is
// read again.
const clients = new Map<string, EtcdClient>();

function fileStamp(file: string | undefined): string {
  if (file === undefined || file === '') return '';
  try {
    const stat = statSync(file);
    return `${file}@${stat.mtimeMs}/${stat.size}`;
  } catch {
    return `${file}@missing`;
  }
}

/** The etcd client a configuration names (one per endpoints and TLS files, reused within a process). */
export function clientOf(conf: CalicoIpamConf, options: { operationTimeoutMs?: number } = {}): EtcdClient {
  const key = JSON.stringify([conf.etcdEndpoints, fileStamp(conf.etcdCertFile), fileStamp(conf.etcdKeyFile), fileStamp(conf.etcdCaCertFile), options.operationTimeoutMs ?? 0]);
  const cached = clients.get(key);
  if (cached) return cached;
  let client: EtcdClient;
  try {
    client = new EtcdClient({
      endpoints: conf.etcdEndpoints,
      certFile: conf.etcdCertFile,
      keyFile: conf.etcdKeyFile,
      caFile: conf.etcdCaCertFile,
      ...options,
    });
  } catch (error) {
    throw toCniError(error);
  }
  // A few clients at most: an old one (a rotated certificate) is closed when a new one comes.
  if (clients.size >= 8) {
    const [oldestKey, oldest] = clients.entries().next().value as [string, EtcdClient];
    clients.delete(oldestKey);
    oldest.close();
  }
  clients.set(key, client);
  return client;
}

/** A CNI error for what the library threw: code 11 while etcd cannot answer, 7 for bad pools. */
export function toCniError(error: unknown): unknown {
  if (error instanceof CniError) return error;
  if (error instanceof EtcdError) {
    if (error.kind === 'config') return new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, error.message);
    return new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `calico-ipam: ${error.message}`);
  }
  if (error instanceof IpamError) {
    if (error.kind === 'no-pool' || error.kind === 'not-in-pool' || error.kind === 'invalid') return new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `calico-ipam: ${error.message}`);
    if (error.kind === 'conflict') return new CniError(CNI_ERROR_CODES.TRY_AGAIN_LATER, `calico-ipam: ${error.message}`);
    return new CniError(CNI_ERROR_CODES.INTERNAL, `calico-ipam: ${error.message}`);
  }
  return error;
}

/** How long a plugin waits for the node lock before going on without it (Calico waits without end). */
const LOCK_WAIT_MS = 60_000;

/**
 * Take Calico's node-wide lock (best effort, as Calico: a lock that cannot be had is no reason to
 * fail, the datastore's compare-and-swap keeps things right). Serialising one node's plugins
 * means they do not race each other for the same block.
 */
async function lockNode(path: string): Promise<() => void> {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, 'a', 0o600);
  } catch {
    return () => {};
  }
  try {
    const { flockAsync, tryFlock, LOCK_EX } = await import('@cni/sys');
    if (tryFlock(fd, LOCK_EX)) return () => closeSync(fd);
    // Held by another plugin of this node: wait in flock(2) on another thread, so the lock is
    // ours the moment it is released (a polled lock loses up to its polling pause each time).
    // The timer keeps the event loop alive meanwhile (a call waiting on another thread alone
    // does not) and bounds the wait. The descriptor stays open until that flock returns, so its
    // number cannot be reused under it.
    const waiting = flockAsync(fd, LOCK_EX).then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), LOCK_WAIT_MS)));
    const locked = await Promise.race([waiting, gaveUp]);
    clearTimeout(timer);
    if (locked) return () => closeSync(fd);
    // Unlocked, as Calico's acquireIPAMLockBestEffort.
    return () => void waiting.finally(() => closeSync(fd));
  } catch {
    return () => closeSync(fd);
  }
}

/** Run `body` with an IPAM handle for the configured node; the lock is released after, the connections kept. */
export async function withIpam<T>(conf: CalicoIpamConf, body: (ipam: CalicoIpam) => Promise<T>, options: { lock?: boolean } = {}): Promise<T> {
  const client = clientOf(conf);
  const unlock = options.lock === false ? () => {} : await lockNode(conf.lockFile);
  try {
    return await body(new CalicoIpam(client, conf.nodename));
  } catch (error) {
    throw toCniError(error);
  } finally {
    unlock();
  }
}
