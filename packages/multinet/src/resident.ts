// SPDX-License-Identifier: Apache-2.0
// Thick mode: what multinet keeps between requests when it runs in a long-lived process (a warm
// worker of `cni-bundle daemon`), as Multus' thick daemon keeps its informers and its API
// connection. An executable starts empty for every pod, so there it keeps nothing (a watch would
// cost a start and serve no second request).
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from './kube.ts';
import { toNad, type NadSource, type NetworkAttachmentDefinition } from './nad.ts';

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
  informers: Map<string, { client: NadWatchApi; informer: NadInformer }>;
}

const shared: Shared = { nadDirs: new Map(), clients: new Map(), informers: new Map() };

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

/** What {@link NadInformer} needs of the API client. */
export interface NadWatchApi extends NadSource {
  listNads(): Promise<{ items: NetworkAttachmentDefinition[]; resourceVersion: string }>;
  watchNads(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

/**
 * The cluster's NADs, listed once and kept current by a watch, as Multus' thick daemon keeps an
 * informer. Until the list has arrived (and again after the watch broke, until it is listed
 * again), a read goes through to the API. A NAD the cache does not hold is read through too, so
 * one created a moment ago is found even before its watch event arrives.
 */
export class NadInformer implements NadSource {
  readonly #api: NadWatchApi;
  readonly #nads = new Map<string, NetworkAttachmentDefinition>();
  readonly #abort = new AbortController();
  #synced = false;
  #started = false;
  #retryMs: number;

  constructor(api: NadWatchApi, options: { retryMs?: number } = {}) {
    this.#api = api;
    this.#retryMs = options.retryMs ?? 1000;
  }

  /** Whether reads are served from the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  async getNad(namespace: string, name: string): Promise<NetworkAttachmentDefinition | undefined> {
    if (!this.#started) {
      this.#started = true;
      void this.#run();
    }
    const cached = this.#synced ? this.#nads.get(`${namespace}/${name}`) : undefined;
    return cached ?? this.#api.getNad(namespace, name);
  }

  close(): void {
    this.#abort.abort();
    this.#synced = false;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const { items, resourceVersion } = await this.#api.listNads();
        this.#nads.clear();
        for (const nad of items) this.#nads.set(`${nad.metadata.namespace ?? 'default'}/${nad.metadata.name}`, nad);
        this.#synced = true;
        let gone = false;
        await this.#api.watchNads(resourceVersion, (type, object) => {
          if (type === 'ERROR') gone = true;
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          let nad: NetworkAttachmentDefinition;
          try {
            nad = toNad(object, 'a NAD watch event');
          } catch {
            return;
          }
          const key = `${nad.metadata.namespace ?? 'default'}/${nad.metadata.name}`;
          if (type === 'DELETED') this.#nads.delete(key);
          else this.#nads.set(key, nad);
        }, signal);
        if (gone) this.#synced = false;
      } catch {
        // The API is away: reads go through until it answers a list again.
      }
      this.#synced = false;
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, this.#retryMs).unref());
    }
  }
}

/** The informer of the API server a shared client talks to (thick mode). */
export function sharedNadInformer(file: string, client: NadWatchApi): NadInformer {
  const entry = shared.informers.get(file);
  if (entry !== undefined && entry.client === client) return entry.informer;
  entry?.informer.close();
  const informer = new NadInformer(client);
  shared.informers.set(file, { client, informer });
  return informer;
}

/** Drop every cache and close the connections and watches (tests, and a host that shuts down). */
export function resetResidentCaches(): void {
  for (const { informer } of shared.informers.values()) informer.close();
  shared.informers.clear();
  for (const source of shared.nadDirs.values()) source.close();
  shared.nadDirs.clear();
  for (const { client } of shared.clients.values()) client.close();
  shared.clients.clear();
}
