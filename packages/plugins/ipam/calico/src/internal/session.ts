// SPDX-License-Identifier: Apache-2.0
// One verb's use of the datastore: the client, the node-wide lock, and errors turned into CNI errors.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { EtcdClient, EtcdError } from '../lib/etcd.ts';
import { IpamError } from '../lib/errors.ts';
import { CalicoIpam } from '../lib/ipam.ts';
import type { CalicoIpamConf } from '../net-conf.ts';

/** The etcd client a configuration names. */
export function clientOf(conf: CalicoIpamConf, options: { operationTimeoutMs?: number } = {}): EtcdClient {
  try {
    return new EtcdClient({
      endpoints: conf.etcdEndpoints,
      certFile: conf.etcdCertFile,
      keyFile: conf.etcdKeyFile,
      caFile: conf.etcdCaCertFile,
      ...options,
    });
  } catch (error) {
    throw toCniError(error);
  }
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
    // Polled with a non-blocking flock: the timer keeps the event loop alive while waiting (a
    // lock awaited on another thread alone does not, and the process would end with nothing
    // printed), and the wait has a deadline.
    const { tryFlock, LOCK_EX } = await import('@cni/sys');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let pause = 1; !tryFlock(fd, LOCK_EX); pause = Math.min(pause * 2, 20)) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  } catch {
    // Unlocked, as Calico's acquireIPAMLockBestEffort.
  }
  return () => closeSync(fd);
}

/** Run `body` with an IPAM handle for the configured node; the lock and connections are released after. */
export async function withIpam<T>(conf: CalicoIpamConf, body: (ipam: CalicoIpam) => Promise<T>, options: { lock?: boolean } = {}): Promise<T> {
  const client = clientOf(conf);
  const unlock = options.lock === false ? () => {} : await lockNode(conf.lockFile);
  try {
    return await body(new CalicoIpam(client, conf.nodename));
  } catch (error) {
    throw toCniError(error);
  } finally {
    unlock();
    client.close();
  }
}
