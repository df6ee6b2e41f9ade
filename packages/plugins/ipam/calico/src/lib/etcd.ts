// SPDX-License-Identifier: Apache-2.0
// An etcd v3 client over etcd's JSON gateway (the grpc-gateway every etcd 3.4+ member serves on
// its client port), on node:http/node:https with keep-alive. Chosen on measurement: loading it
// costs what node:http costs (already in Node's snapshot), where a gRPC client loads protobuf
// and grpc-js at every start of the executable (figures in bench/calico/README.md).
import { readFileSync } from 'node:fs';
// Named static imports: the bundle turns `require("http")` into a loader that runs on first use,
// so these cost nothing until a request is made, and https (with tls and crypto, about 25 ms of
// CPU) only for https endpoints. Namespace imports (`import * as http`) would not do: esbuild
// copies every export of the module at load time, which loads it. A dynamic import() inside the
// bundle's code-cached script would go through vm's main-context loader, which Node 24 announces
// with an ExperimentalWarning on stderr.
import { Agent as HttpAgentClass, request as httpRequest } from 'node:http';
import { Agent as HttpsAgentClass, request as httpsRequest } from 'node:https';
import type { Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';

/** Why an etcd request failed. */
export type EtcdErrorKind = 'unavailable' | 'timeout' | 'server' | 'config';

/** An etcd request that failed: the cluster unreachable, a deadline passed, or the server refused it. */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(
    readonly kind: EtcdErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** How to reach the cluster. */
export interface EtcdOptions {
  /** Client URLs (`http://127.0.0.1:2379`, `https://...`); tried in order, failing over. */
  endpoints: readonly string[];
  /** Client certificate and key (PEM files) for TLS with client authentication. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** The CA that signed the members' certificates (PEM file). */
  caFile?: string | undefined;
  /**
   * Deadline of one HTTP exchange with one member, in milliseconds. Default 5000: on a busy node
   * (tens of plugins starting at once) a healthy member's answer can take seconds to be read, and
   * an exchange given up too early is sent again, which adds to the load.
   */
  requestTimeoutMs?: number;
  /**
   * Deadline of one operation across retries and fail-over, in milliseconds. Default 15000.
   * When every member refuses the connection twice in a row, the operation fails at once.
   */
  operationTimeoutMs?: number;
}

/** One key as etcd returns it; revisions are decimal strings (int64 in etcd's JSON). */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
}

/** A transaction's condition on one key. */
export type Compare =
  | { key: string; modRevision: string }
  /** The key does not exist. */
  | { key: string; absent: true };

/** A transaction's write. */
export type Operation = { put: string; value: string } | { delete: string };

/** One range read of {@link EtcdClient.readMany}: a key, or every key under a prefix. */
export interface RangeRead {
  key: string;
  prefix?: boolean;
  keysOnly?: boolean;
}

/** What {@link EtcdClient.txn} takes besides the transaction. */
export interface TxnOptions {
  /**
   * The keys whose written values prove that the transaction was applied, when an exchange was
   * lost and its retry found the comparisons failing (default: every key written or deleted).
   * Name keys no other writer changes meanwhile (a handle), so that proof cannot be overwritten.
   */
  witnesses?: readonly string[];
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => (text === undefined ? '' : Buffer.from(text, 'base64').toString('utf8'));

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]! += 1;
      return bytes.subarray(0, i + 1).toString('latin1');
    }
  }
  return '\0';
}

// Answers of a member that another member may not give (a leader election under way).
const RETRYABLE_MESSAGE = /leader changed|no leader|timed out|too many requests|unavailable|not capable|stopped/i;
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * An etcd v3 client for what IPAM needs: range reads, transactions with compare-and-swap, and the
 * member status. Every exchange has a deadline; a member that fails or answers "no leader" is
 * left for the next one until the operation's deadline.
 */
export class EtcdClient {
  readonly endpoints: readonly URL[];
  #current = 0;
  #agent: HttpAgent | undefined;
  #tls: { cert?: Buffer; key?: Buffer; ca?: Buffer } | undefined;
  readonly #requestTimeoutMs: number;
  readonly #operationTimeoutMs: number;
  #secure: boolean;

  constructor(options: EtcdOptions) {
    if (options.endpoints.length === 0) throw new EtcdError('config', 'etcd: no endpoint');
    this.endpoints = options.endpoints.map((endpoint) => {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new EtcdError('config', `etcd: endpoint "${endpoint}" is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EtcdError('config', `etcd: endpoint "${endpoint}" is neither http nor https`);
      return url;
    });
    this.#secure = this.endpoints.some((url) => url.protocol === 'https:');
    if (this.#secure || options.certFile || options.caFile) {
      const read = (file: string | undefined, what: string): Buffer | undefined => {
        if (file === undefined || file === '') return undefined;
        try {
          return readFileSync(file);
        } catch (error) {
          throw new EtcdError('config', `etcd: cannot read the ${what} ${file}: ${(error as Error).message}`);
        }
      };
      const tls: { cert?: Buffer; key?: Buffer; ca?: Buffer } = {};
      const cert = read(options.certFile, 'client certificate');
      const key = read(options.keyFile, 'client key');
      const ca = read(options.caFile, 'CA certificate');
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      if (ca) tls.ca = ca;
      this.#tls = tls;
    }
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#operationTimeoutMs = options.operationTimeoutMs ?? 15_000;
  }

  async #agentFor(): Promise<HttpAgent> {
    if (this.#agent) return this.#agent;
    if (this.#secure) {
      this.#agent = new HttpsAgentClass({ keepAlive: true, maxSockets: 8, ...this.#tls });
    } else {
      this.#agent = new HttpAgentClass({ keepAlive: true, maxSockets: 8 });
    }
    return this.#agent;
  }

  /** Close the kept-alive connections (the process can then exit without waiting for them). */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  async #exchange(url: URL, path: string, body: string): Promise<unknown> {
    const agent = await this.#agentFor();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const options: RequestOptions = {
        agent,
        method: 'POST',
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (url.protocol === 'https:' ? 443 : 2379),
        path,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: this.#requestTimeoutMs,
      };
      const timer = setTimeout(() => {
        request.destroy(Object.assign(new Error(`no answer within ${this.#requestTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, this.#requestTimeoutMs);
      const request = send(options, (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        response.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            reject(Object.assign(new Error(`etcd answered HTTP ${response.statusCode} with no JSON: ${text.slice(0, 200)}`), { server: true, status: response.statusCode }));
            return;
          }
          if (response.statusCode !== 200 || parsed['error'] !== undefined) {
            const message = String(parsed['message'] ?? parsed['error'] ?? `HTTP ${response.statusCode}`);
            reject(Object.assign(new Error(message), { server: true, status: response.statusCode, grpcCode: parsed['code'] }));
            return;
          }
          resolve(parsed);
        });
      });
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(body);
    });
  }

  /** POST `body` to the gateway `path`, failing over between members until the operation's deadline. */
  async call(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.#call(path, body)).answer;
  }

  /**
   * {@link call}, also telling whether an earlier attempt may have reached a member and been
   * applied (its answer lost to a deadline, a reset connection or a server timeout): a write
   * retried after such an attempt can find its own effect in place.
   */
  async #call(path: string, body: Record<string, unknown>): Promise<{ answer: Record<string, unknown>; ambiguous: boolean }> {
    const text = JSON.stringify(body);
    let ambiguous = false;
    const deadline = Date.now() + this.#operationTimeoutMs;
    let refusedInARow = 0;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      const url = this.endpoints[this.#current]!;
      try {
        return { answer: (await this.#exchange(url, path, text)) as Record<string, unknown>, ambiguous };
      } catch (error) {
        lastError = error;
        const err = error as Error & { code?: string; server?: boolean; grpcCode?: number; status?: number };
        if (err.server) {
          const retryable = err.grpcCode === 14 || err.grpcCode === 4 || (err.status ?? 0) >= 500 || RETRYABLE_MESSAGE.test(err.message);
          if (!retryable) throw new EtcdError('server', `etcd ${url.host}: ${err.message}`, { cause: error });
          refusedInARow = 0;
          // "request timed out" and "unavailable" may come after the proposal was made.
          ambiguous = true;
        } else if ((err.code !== undefined && CONNECT_ERRORS.has(err.code)) || isTlsFailure(err)) {
          // Refused, or a TLS handshake that will fail the same way again: not worth the deadline.
          // Nothing was sent.
          refusedInARow++;
        } else {
          refusedInARow = 0;
          ambiguous = true;
        }
        this.#current = (this.#current + 1) % this.endpoints.length;
        if (refusedInARow >= 2 * this.endpoints.length) {
          const why = isTlsFailure(err) ? `TLS: ${err.message}` : (err.code ?? err.message);
          throw new EtcdError('unavailable', `etcd unreachable: no member of ${this.endpoints.map((u) => u.host).join(', ')} accepts connections (${why})`, { cause: error });
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const kind = err.server ? 'server' : err.code === 'ETIMEDOUT' ? 'timeout' : 'unavailable';
          throw new EtcdError(kind, `etcd: no answer within ${this.#operationTimeoutMs} ms from ${this.endpoints.map((u) => u.host).join(', ')} (last: ${err.message})`, { cause: lastError });
        }
        // A full round of members failed: give an election time before the next round.
        if (this.#current === 0 || err.server) await new Promise((resolve) => setTimeout(resolve, Math.min(left, 50 + 25 * Math.min(attempt, 8))));
      }
    }
  }

  /** The value of one key, or undefined. */
  async get(key: string): Promise<KeyValue | undefined> {
    const answer = await this.call('/v3/kv/range', { key: b64(key) });
    const kvs = answer['kvs'] as RawKv[] | undefined;
    return kvs && kvs.length > 0 ? toKv(kvs[0]!) : undefined;
  }

  /** Every key starting with `prefix`, in key order. */
  async list(prefix: string, options: { keysOnly?: boolean } = {}): Promise<KeyValue[]> {
    const body: Record<string, unknown> = { key: b64(prefix), range_end: Buffer.from(prefixEnd(prefix), 'latin1').toString('base64') };
    if (options.keysOnly) body['keys_only'] = true;
    const answer = await this.call('/v3/kv/range', body);
    return ((answer['kvs'] as RawKv[] | undefined) ?? []).map(toKv);
  }

  /**
   * Several range reads in one exchange (a read-only transaction: one revision for all of them).
   * `serializable` answers from the member's own copy without asking the leader: faster, and
   * possibly a few milliseconds behind, which a later compare-and-swap finds out.
   */
  async readMany(reads: readonly RangeRead[], options: { serializable?: boolean } = {}): Promise<KeyValue[][]> {
    const answer = await this.call('/v3/kv/txn', {
      success: reads.map((read) => {
        const range: Record<string, unknown> = { key: b64(read.key) };
        if (read.prefix) range['range_end'] = Buffer.from(prefixEnd(read.key), 'latin1').toString('base64');
        if (read.keysOnly) range['keys_only'] = true;
        if (options.serializable) range['serializable'] = true;
        return { request_range: range };
      }),
    });
    const responses = (answer['responses'] ?? []) as { response_range?: { kvs?: RawKv[] } }[];
    return reads.map((_, index) => (responses[index]?.response_range?.kvs ?? []).map(toKv));
  }

  /**
   * Apply `operations` when every comparison holds: true when they were applied. When an attempt
   * was lost (no answer) and the retry's comparisons fail, the witnesses are read back: finding
   * the transaction's own writes there means the lost attempt was applied, and that is success,
   * not a conflict (else a caller would take a second address for a handle that has one).
   */
  async txn(compares: readonly Compare[], operations: readonly Operation[], options: TxnOptions = {}): Promise<boolean> {
    return (await this.txnRevision(compares, operations, options)) !== undefined;
  }

  /** As {@link txn}, giving the revision the writes made (their keys' mod revision), or undefined when not applied. */
  async txnRevision(compares: readonly Compare[], operations: readonly Operation[], options: TxnOptions = {}): Promise<string | undefined> {
    const { answer, ambiguous } = await this.#call('/v3/kv/txn', {
      compare: compares.map((compare) =>
        'absent' in compare
          ? { target: 'CREATE', result: 'EQUAL', key: b64(compare.key), create_revision: '0' }
          : { target: 'MOD', result: 'EQUAL', key: b64(compare.key), mod_revision: compare.modRevision },
      ),
      success: operations.map((op) => ('put' in op ? { request_put: { key: b64(op.put), value: b64(op.value) } } : { request_delete_range: { key: b64(op.delete) } })),
    });
    if (answer['succeeded'] === true) return String(((answer['header'] ?? {}) as Record<string, unknown>)['revision'] ?? '0');
    if (!ambiguous) return undefined;
    return this.#appliedRevision(operations, options.witnesses);
  }

  /** The revision of `operations` when their effect on the witness keys is in place, else undefined. */
  async #appliedRevision(operations: readonly Operation[], witnesses: readonly string[] | undefined): Promise<string | undefined> {
    const checked = operations.filter((op) => witnesses === undefined || witnesses.includes('put' in op ? op.put : op.delete));
    if (checked.length === 0) return undefined;
    const found = await this.readMany(checked.map((op) => ({ key: 'put' in op ? op.put : op.delete })));
    let revision = '0';
    for (const [index, op] of checked.entries()) {
      const kv = found[index]![0];
      if ('put' in op) {
        if (kv === undefined || kv.value !== op.value) return undefined;
        if (BigInt(kv.modRevision) > BigInt(revision)) revision = kv.modRevision;
      } else if (kv !== undefined) {
        return undefined;
      }
    }
    return revision;
  }

  /** Put one key unconditionally. */
  async put(key: string, value: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  /** Delete one key, or every key under a prefix. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<void> {
    const body: Record<string, unknown> = { key: b64(key) };
    if (options.prefix) body['range_end'] = Buffer.from(prefixEnd(key), 'latin1').toString('base64');
    await this.call('/v3/kv/deleterange', body);
  }

  /** The status of the member that answers (version, leader). */
  async status(): Promise<{ version: string; leader: string; memberId: string }> {
    const answer = await this.call('/v3/maintenance/status', {});
    const header = (answer['header'] ?? {}) as Record<string, unknown>;
    return { version: String(answer['version'] ?? ''), leader: String(answer['leader'] ?? ''), memberId: String(header['member_id'] ?? '') };
  }
}

function isTlsFailure(error: Error & { code?: string }): boolean {
  return /^(ERR_SSL|ERR_TLS|EPROTO|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED)/.test(error.code ?? '') || /certificate|handshake|alert/i.test(error.message);
}

function toKv(raw: RawKv): KeyValue {
  return { key: unb64(raw.key), value: unb64(raw.value), createRevision: raw.create_revision ?? '0', modRevision: raw.mod_revision ?? '0' };
}
