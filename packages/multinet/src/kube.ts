// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { dirname, resolve } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { errorText, MultinetError } from './errors.ts';
import { toNad, type NadSource, type NetworkAttachmentDefinition } from './nad.ts';

/** The parts of a pod multinet reads. */
export interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** What multinet needs from the Kubernetes API; {@link KubeClient} is the real one. */
export interface KubeApi extends NadSource {
  /** The pod, or undefined when the API says 404. */
  getPod(namespace: string, name: string): Promise<Pod | undefined>;
  /**
   * Set one annotation of a pod with a JSON merge patch of that annotation alone, through the
   * `pods/status` subresource; a pod that is gone (404) is not an error.
   */
  patchPodAnnotation(namespace: string, name: string, key: string, value: string): Promise<void>;
}

/** How to reach an API server: what a kubeconfig context or the in-cluster files give. */
export interface KubeClientOptions {
  /** `https://host:port` (or `http://` for tests and proxies). */
  server: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token, read again for every request (so rotation is seen). */
  tokenFile?: string;
  /** PEM certificates to trust; the system's otherwise. */
  ca?: string;
  /** A client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** Trust any server certificate (the kubeconfig's `insecure-skip-tls-verify`). */
  insecureSkipTlsVerify?: boolean;
  /** The name the server's certificate must carry, when not the server's host (`tls-server-name`). */
  tlsServerName?: string;
  /**
   * A credential plugin that prints the token (the kubeconfig user's `exec`, as kubectl runs it:
   * client.authentication.k8s.io ExecCredential on stdout). Run once per client, when the first
   * request needs it.
   */
  exec?: ExecCredentialCommand;
  /** A time limit per request in milliseconds. Default 10000. */
  timeoutMs?: number;
  /** Attempts after the first for errors that may pass (network, time-outs, 429, 5xx, 409 on PATCH). Default 3. */
  retries?: number;
  /** The first pause between attempts in milliseconds, doubled each time. Default 200. */
  retryDelayMs?: number;
}

/** A kubeconfig user's `exec` credential plugin. */
export interface ExecCredentialCommand {
  /** The program; a relative path with a slash is relative to the kubeconfig's folder, as kubectl does. */
  command: string;
  args: string[];
  /** Variables added to the plugin's environment. */
  env: Record<string, string>;
  /** The ExecCredential version asked for (`client.authentication.k8s.io/v1`). */
  apiVersion: string;
}

/** An answer of the API server that is not a success. */
export class KubeApiError extends MultinetError {
  override readonly name: string = 'KubeApiError';
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;

  constructor(message: string, status: number, options: { cause?: unknown } = {}) {
    super(message, { code: 11, ...options });
    this.status = status;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The default path of the in-cluster service account files. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The client options of a pod's own service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, the
 * token file (re-read on each request) and the cluster CA.
 */
export function inClusterOptions(env: Readonly<Record<string, string | undefined>> = process.env, dir = SERVICE_ACCOUNT_DIR): KubeClientOptions {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new MultinetError('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  let ca: string;
  try {
    ca = readFileSync(`${dir}/ca.crt`, 'utf8');
  } catch (error) {
    throw new MultinetError(`failed to read "${dir}/ca.crt": ${errorText(error)}`, { code: 5 });
  }
  return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, tokenFile: `${dir}/token`, ca };
}

/** Pick entry `name` from a kubeconfig list (`clusters`, `users`, `contexts`). */
function named(list: unknown, name: string, what: string, file: string): Record<string, unknown> {
  const entry = Array.isArray(list) ? list.find((item) => isRecord(item) && item.name === name) : undefined;
  if (!isRecord(entry)) throw new MultinetError(`kubeconfig "${file}": no ${what} named "${name}"`);
  const inner = entry[what];
  return isRecord(inner) ? inner : {};
}

/**
 * The client options of a kubeconfig file's current context (or `context`): server,
 * certificate authority, client certificate and key, token or token file (`-data` variants
 * and paths relative to the file, as kubectl reads them).
 */
export function kubeconfigOptions(file: string, context?: string): KubeClientOptions {
  let config: unknown;
  try {
    config = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MultinetError(`failed to read kubeconfig "${file}": ${errorText(error)}`, { code: 5 });
  }
  if (!isRecord(config)) throw new MultinetError(`kubeconfig "${file}": not a mapping`);
  const contextName = context ?? (typeof config['current-context'] === 'string' ? config['current-context'] : undefined);
  let clusterName: unknown;
  let userName: unknown;
  if (contextName) {
    const ctx = named(config.contexts, contextName, 'context', file);
    clusterName = ctx.cluster;
    userName = ctx.user;
  } else {
    // No context: a file with one cluster and at most one user is unambiguous.
    const clusters = Array.isArray(config.clusters) ? config.clusters : [];
    const users = Array.isArray(config.users) ? config.users : [];
    if (clusters.length !== 1 || users.length > 1) throw new MultinetError(`kubeconfig "${file}": no current-context`);
    clusterName = (clusters[0] as Record<string, unknown>).name;
    userName = (users[0] as Record<string, unknown> | undefined)?.name;
  }
  const cluster = named(config.clusters, String(clusterName), 'cluster', file);
  const user = typeof userName === 'string' ? named(config.users, userName, 'user', file) : {};
  const base = dirname(resolve(file));
  const pem = (data: unknown, path: unknown): string | undefined => {
    if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    if (typeof path === 'string' && path !== '') {
      try {
        return readFileSync(resolve(base, path), 'utf8');
      } catch (error) {
        throw new MultinetError(`kubeconfig "${file}": failed to read "${path}": ${errorText(error)}`, { code: 5 });
      }
    }
    return undefined;
  };
  if (typeof cluster.server !== 'string' || cluster.server === '') throw new MultinetError(`kubeconfig "${file}": cluster has no server`);
  const options: KubeClientOptions = { server: cluster.server };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) options.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) options.insecureSkipTlsVerify = true;
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  if (cert) options.cert = cert;
  if (key) options.key = key;
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '') options.tlsServerName = cluster['tls-server-name'];
  if (typeof user.token === 'string' && user.token !== '') options.token = user.token;
  else if (typeof user.tokenFile === 'string' && user.tokenFile !== '') options.tokenFile = resolve(base, user.tokenFile);
  else if (isRecord(user.exec)) options.exec = execCommand(user.exec, base, file);
  return options;
}

/** A kubeconfig user's `exec` section, checked. */
function execCommand(exec: Record<string, unknown>, base: string, file: string): ExecCredentialCommand {
  const command = exec.command;
  if (typeof command !== 'string' || command === '') throw new MultinetError(`kubeconfig "${file}": user exec has no command`);
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const env: Record<string, string> = {};
  if (Array.isArray(exec.env)) {
    for (const entry of exec.env) {
      if (isRecord(entry) && typeof entry.name === 'string') env[entry.name] = String(entry.value ?? '');
    }
  }
  const apiVersion = typeof exec.apiVersion === 'string' && exec.apiVersion !== '' ? exec.apiVersion : 'client.authentication.k8s.io/v1';
  return { command: command.includes('/') ? resolve(base, command) : command, args, env, apiVersion };
}

/** Run an exec credential plugin and read the token of its ExecCredential. */
function execCredentialToken(exec: ExecCredentialCommand): string {
  let out: string;
  try {
    const { execFileSync } = process.getBuiltinModule('node:child_process');
    out = execFileSync(exec.command, exec.args, {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...exec.env,
        // What kubectl passes: the version it expects, and no terminal to ask on.
        KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } }),
      },
    });
  } catch (error) {
    throw new MultinetError(`kubeconfig exec credential "${exec.command}" failed: ${errorText(error)}`, { code: 5 });
  }
  let credential: unknown;
  try {
    credential = JSON.parse(out);
  } catch (error) {
    throw new MultinetError(`kubeconfig exec credential "${exec.command}" printed no JSON: ${errorText(error)}`, { code: 5 });
  }
  const token = isRecord(credential) && isRecord(credential.status) ? credential.status.token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new MultinetError(`kubeconfig exec credential "${exec.command}" gave no status.token`, { code: 5 });
  }
  return token;
}

interface Answer {
  status: number;
  body: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A small Kubernetes API client for what a CNI plugin does: get a pod, get a NAD, patch one
 * annotation. TLS with the configured CA (or client certificates), a bearer token, a time
 * limit per request, and retries with a doubling pause for answers that may pass.
 *
 * @example
 * ```ts
 * const kube = new KubeClient(kubeconfigOptions('/etc/cni/net.d/multinet.d/multinet.kubeconfig'));
 * const pod = await kube.getPod('default', 'web-0');
 * ```
 */
export class KubeClient implements KubeApi {
  readonly #options: KubeClientOptions;
  readonly #url: URL;
  readonly #agent: Agent | undefined;

  constructor(options: KubeClientOptions) {
    this.#options = options;
    try {
      this.#url = new URL(options.server);
    } catch {
      throw new MultinetError(`invalid API server address ${JSON.stringify(options.server)}`);
    }
    if (this.#url.protocol === 'https:') {
      this.#agent = new Agent({
        keepAlive: true,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        rejectUnauthorized: options.insecureSkipTlsVerify !== true,
        ...(options.tlsServerName === undefined ? {} : { servername: options.tlsServerName }),
      });
    }
  }

  /** Release the kept-alive connections. */
  close(): void {
    this.#agent?.destroy();
  }

  #execToken: string | undefined;

  #token(): string | undefined {
    if (this.#options.token !== undefined) return this.#options.token;
    if (this.#options.exec !== undefined) {
      this.#execToken ??= execCredentialToken(this.#options.exec);
      return this.#execToken;
    }
    if (this.#options.tokenFile === undefined) return undefined;
    try {
      return readFileSync(this.#options.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new MultinetError(`failed to read token file "${this.#options.tokenFile}": ${errorText(error)}`, { code: 5 });
    }
  }

  #once(method: string, path: string, body: string | undefined, contentType: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'multinet' };
    const token = this.#token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    // A server behind a proxy has a path of its own (`https://host/k8s/clusters/c-1`): the API path goes after it.
    const url = new URL(`${this.#url.pathname.replace(/\/+$/u, '')}${path}`, this.#url);
    const timeout = this.#options.timeoutMs ?? 10_000;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Answer>((done, fail) => {
      const req = send(url, { method, headers, ...(this.#agent ? { agent: this.#agent } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      });
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', fail);
      req.end(body);
    });
  }

  /** One API call with retries; resolves to the final answer (any status), throws when none came. */
  async #call(method: string, path: string, body?: string, contentType?: string): Promise<Answer> {
    const retries = this.#options.retries ?? 3;
    let delay = this.#options.retryDelayMs ?? 200;
    for (let attempt = 0; ; attempt++) {
      let answer: Answer | undefined;
      let failure: unknown;
      try {
        answer = await this.#once(method, path, body, contentType);
      } catch (error) {
        if (MultinetError.isInstance(error)) throw error;
        failure = error;
      }
      const passing = answer === undefined || answer.status === 429 || answer.status >= 500 || (answer.status === 409 && method === 'PATCH');
      if (!passing || attempt >= retries) {
        if (answer) return answer;
        throw new KubeApiError(`${method} ${path} on "${this.#options.server}" failed: ${errorText(failure)}`, 0, { cause: failure });
      }
      await sleep(delay);
      delay *= 2;
    }
  }

  #fail(method: string, path: string, answer: Answer): KubeApiError {
    let reason = answer.body.trim();
    try {
      const status = JSON.parse(answer.body) as unknown;
      if (isRecord(status) && typeof status.message === 'string') reason = status.message;
    } catch {
      // Not a Status object: quote the body as it came.
    }
    return new KubeApiError(`${method} ${path}: the API server answered ${answer.status}: ${reason}`, answer.status);
  }

  async #getJson(path: string): Promise<unknown> {
    const answer = await this.#call('GET', path);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.#fail('GET', path, answer);
    try {
      return JSON.parse(answer.body) as unknown;
    } catch (error) {
      throw new KubeApiError(`GET ${path}: invalid JSON from the API server: ${errorText(error)}`, answer.status);
    }
  }

  /** {@inheritDoc KubeApi.getPod} */
  async getPod(namespace: string, name: string): Promise<Pod | undefined> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const pod = await this.#getJson(path);
    if (pod === undefined) return undefined;
    if (!isRecord(pod) || !isRecord(pod.metadata)) throw new KubeApiError(`GET ${path}: the answer is not a pod`, 200);
    return pod as Pod;
  }

  /** {@inheritDoc NadSource.getNad} */
  async getNad(namespace: string, name: string): Promise<NetworkAttachmentDefinition | undefined> {
    const path = `/apis/k8s.cni.cncf.io/v1/namespaces/${encodeURIComponent(namespace)}/network-attachment-definitions/${encodeURIComponent(name)}`;
    const nad = await this.#getJson(path);
    return nad === undefined ? undefined : toNad(nad, `the API's ${namespace}/${name}`);
  }

  /** Every NAD of the cluster and the list's resourceVersion, where a watch of changes starts. */
  async listNads(): Promise<{ items: NetworkAttachmentDefinition[]; resourceVersion: string }> {
    const path = '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions';
    const list = await this.#getJson(path);
    if (!isRecord(list) || !Array.isArray(list.items)) throw new KubeApiError(`GET ${path}: the answer is not a list`, 200);
    const meta = isRecord(list.metadata) ? list.metadata : {};
    return { items: list.items.map((item, i) => toNad(item, `the API's NAD list, item ${i}`)), resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '' };
  }

  /**
   * Watch NADs from `resourceVersion`: `onEvent` gets each change (`ADDED`, `MODIFIED`,
   * `DELETED`; `ERROR` when the version is too old). Resolves when the stream ends, rejects when
   * it cannot start; `signal` stops it. The stream holds no event-loop reference of its own.
   */
  watchNads(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void> {
    const query = `?watch=1&allowWatchBookmarks=true${resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : ''}`;
    const url = new URL(`${this.#url.pathname.replace(/\/+$/u, '')}/apis/k8s.cni.cncf.io/v1/network-attachment-definitions${query}`, this.#url);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'multinet' };
    const token = this.#token();
    if (token) headers.Authorization = `Bearer ${token}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((done, fail) => {
      const req = send(url, { method: 'GET', headers, signal, ...(this.#agent ? { agent: this.#agent } : {}) }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(new KubeApiError(`watch of NADs: the API server answered ${res.statusCode ?? 0}`, res.statusCode ?? 0));
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line === '') continue;
            try {
              const event = JSON.parse(line) as { type?: unknown; object?: unknown };
              if (typeof event.type === 'string') onEvent(event.type, event.object);
            } catch {
              // A line that is not an event: the stream is broken; end it, the caller lists again.
              req.destroy();
            }
          }
        });
        res.on('end', () => done());
        res.on('error', () => done());
        res.on('close', () => done());
      });
      req.on('socket', (socket) => socket.unref());
      req.on('error', (error) => (signal.aborted ? done() : fail(error)));
      req.end();
    });
  }

  /** {@inheritDoc KubeApi.patchPodAnnotation} */
  async patchPodAnnotation(namespace: string, name: string, key: string, value: string): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`;
    const body = JSON.stringify({ metadata: { annotations: { [key]: value } } });
    const answer = await this.#call('PATCH', path, body, 'application/merge-patch+json');
    if (answer.status === 404 || (answer.status >= 200 && answer.status < 300)) return;
    throw this.#fail('PATCH', path, answer);
  }
}
