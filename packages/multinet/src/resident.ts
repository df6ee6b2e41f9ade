// SPDX-License-Identifier: Apache-2.0
// Thick mode: what multinet keeps between requests when it runs in a long-lived process (a warm
// worker of `cni-bundle daemon`), as Multus' thick daemon keeps its informers and its API
// connection. An executable starts empty for every pod, so there it keeps nothing (a watch would
// cost a start and serve no second request).
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from './kube.ts';
import type { NadSource } from './nad.ts';

/**
 * The flag a long-lived host sets (`globalThis[Symbol.for('cni.resident')] = true`) before it runs
 * plugins: a global symbol, because the host and each bundled plugin file are separate module
 * graphs that share only the global object.
 */
export const RESIDENT_FLAG = Symbol.for('cni.resident');

/** Whether this process serves many requests (a resident worker), so caches outlive one request. */
export function isResident(): boolean {
  return (globalThis as Record<symbol, unknown>)[RESIDENT_FLAG] === true;
}

interface Shared {
  nadDirs: Map<string, NadSource & { close(): void }>;
  clients: Map<string, { client: KubeClient; stamp: string }>;
}

const shared: Shared = { nadDirs: new Map(), clients: new Map() };

/**
 * The cached NAD source of folder `dir`: the manifests are parsed once and again only after a
 * change. `fs.watch` marks the folder changed as soon as its event arrives; since that event may
 * reach the event loop after the next request does, each read also compares the folder's entries
 * (name, inode, size, mtime: one stat each, no parse) with those of the load it serves. So a NAD
 * written before an ADD starts is what that ADD reads, as in exec mode.
 */
export function watchedNadDirectory(dir: string, load: () => NadSource): NadSource {
  let source = shared.nadDirs.get(dir);
  if (source === undefined) {
    source = createWatchedSource(dir, load);
    shared.nadDirs.set(dir, source);
  }
  return source;
}

function signature(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
  const parts = [String(statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0)];
  for (const name of names) {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    parts.push(stat ? `${name}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : `${name}:gone`);
  }
  return parts.join('\n');
}

function createWatchedSource(dir: string, load: () => NadSource): NadSource & { close(): void } {
  let current: { source: NadSource; signature: string } | undefined;
  let watcher: FSWatcher | undefined;
  const startWatch = () => {
    if (watcher !== undefined) return;
    try {
      watcher = watch(dir, { persistent: false }, () => {
        current = undefined;
      });
      // A folder removed or unreadable: the watch ends and the next read starts another.
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
        current = undefined;
      });
    } catch {
      // No folder yet: every read checks the signature, and the watch starts once it exists.
      watcher = undefined;
    }
  };
  return {
    getNad(namespace, name) {
      startWatch();
      const now = signature(dir);
      if (current === undefined || current.signature !== now) current = { source: load(), signature: now };
      return current.source.getNad(namespace, name);
    },
    close() {
      watcher?.close();
      watcher = undefined;
      current = undefined;
    },
  };
}

/**
 * The API client of kubeconfig `file`, kept (and its keep-alive connection with it) while the
 * file is unchanged; a changed kubeconfig (a rotated token) makes a new client.
 */
export function sharedKubeClient(file: string, make: () => KubeClient): KubeClient {
  const stat = statSync(file, { throwIfNoEntry: false });
  const stamp = stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}` : 'absent';
  const entry = shared.clients.get(file);
  if (entry !== undefined && entry.stamp === stamp) return entry.client;
  entry?.client.close();
  const client = make();
  shared.clients.set(file, { client, stamp });
  return client;
}

/** Drop every cache and close the connections and watches (tests, and a host that shuts down). */
export function resetResidentCaches(): void {
  for (const source of shared.nadDirs.values()) source.close();
  shared.nadDirs.clear();
  for (const { client } of shared.clients.values()) client.close();
  shared.clients.clear();
}
