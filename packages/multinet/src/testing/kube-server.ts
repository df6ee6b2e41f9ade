// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request the fake API server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** A planned failure: the next `times` requests matching `method` and `path` get `status` (or a delay). */
export interface Fault {
  method?: string;
  path?: RegExp;
  status?: number;
  delayMs?: number;
  times?: number;
}

/** The fake API server of the tests, see {@link startKubeServer}. */
export interface KubeServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The self-signed certificate (PEM), the CA to trust. */
  readonly ca: string;
  /** The bearer token the server accepts. */
  readonly token: string;
  /** Every request, in order. */
  readonly requests: RecordedRequest[];
  /** The PATCH requests. */
  readonly patches: RecordedRequest[];
  /** Pods by `namespace/name`; PATCHes update them. */
  readonly pods: Map<string, Record<string, unknown>>;
  /** NADs by `namespace/name`. */
  readonly nads: Map<string, Record<string, unknown>>;
  addPod(namespace: string, name: string, annotations?: Record<string, string>): void;
  /** Add or replace a NAD; an open watch gets ADDED or MODIFIED. */
  addNad(namespace: string, name: string, config?: string, annotations?: Record<string, string>): void;
  /** Remove a NAD; an open watch gets DELETED. */
  deleteNad(namespace: string, name: string): void;
  /** How many NAD watches are open. */
  readonly watches: number;
  /** Plan a failure or a slow answer. */
  fault(fault: Fault): void;
  /** Write a kubeconfig for this server into `dir` and return its path. */
  writeKubeconfig(dir: string): string;
  close(): Promise<void>;
}

let certificate: { cert: string; key: string } | undefined;

/**
 * A self-signed certificate for 127.0.0.1 (valid until 2126), for machines without the openssl
 * program: Node can use certificates but not make them. Test-only, trusted by nothing else.
 */
const FALLBACK_CERTIFICATE = {
  cert: `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUDZl3a7YbneLNLBbBCvTBnbNb6PswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMzIyMTM1NVoYDzIxMjYxMDMw
MjIxMzU1WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATpCkkYYdRNLy6fe88azDk9J7OksT6u89AeFsiVkG2LMV9Q2X+e35gB
CDOBwSQGK4NBTZHDdjIpYT7Jo3XsCKRko28wbTAdBgNVHQ4EFgQUoZnlT2uG4bPy
Hnfhz+I53ztWLs4wHwYDVR0jBBgwFoAUoZnlT2uG4bPyHnfhz+I53ztWLs4wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDRwAwRAIgN+/c9MHRxALiAXeLOM4a7j6NScaDEpRmSVZkVDxIm5YCIA2A
ZCr5yyv7PcRkF69UlKAR2HSNCLMmz/P7LlemJOCH
-----END CERTIFICATE-----\n`,
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgu/7vzQrVRU+CeC4k
Znldw2PB/PHvvajzKYOSB1yuqwmhRANCAATpCkkYYdRNLy6fe88azDk9J7OksT6u
89AeFsiVkG2LMV9Q2X+e35gBCDOBwSQGK4NBTZHDdjIpYT7Jo3XsCKRk
-----END PRIVATE KEY-----\n`,
};

/** A self-signed certificate for 127.0.0.1, made once per test process with openssl when it is installed. */
function selfSigned(): { cert: string; key: string } {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'multinet-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    certificate = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    return certificate;
  } catch {
    certificate = FALLBACK_CERTIFICATE;
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/**
 * An HTTPS server that answers as a Kubernetes API server does for what multinet asks: pods
 * and NADs on their paths (`application/json`, Status objects with 401/404/415/500), merge
 * patches of `pods/<name>/status` applied and recorded, planned failures and slow answers.
 * Listens on 127.0.0.1 with an ephemeral port, in the test process.
 */
export async function startKubeServer(): Promise<KubeServer> {
  const { cert, key } = selfSigned();
  const token = `token-${Math.random().toString(36).slice(2)}`;
  const requests: RecordedRequest[] = [];
  const patches: RecordedRequest[] = [];
  const pods = new Map<string, Record<string, unknown>>();
  const nads = new Map<string, Record<string, unknown>>();
  const faults: Fault[] = [];
  // NAD list and watch, as the API serves them: a resourceVersion per change, events as JSON lines.
  let version = 1;
  const watchers = new Set<ServerResponse>();
  const notify = (type: string, object: Record<string, unknown>) => {
    for (const watcher of watchers) watcher.write(`${JSON.stringify({ type, object })}\n`);
  };

  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(record);
      if (record.method === 'PATCH') patches.push(record);
      const send = (code: number, body: string) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(body);
      };
      const fault = faults.find((f) => (f.method === undefined || f.method === record.method) && (f.path === undefined || f.path.test(record.path)));
      const answer = () => {
        if (record.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
        if (fault?.status !== undefined) return send(fault.status, status(fault.status, 'InternalError', `planned failure ${fault.status}`));
        const [pathOnly, query = ''] = record.path.split('?') as [string, string?];
        if (pathOnly === '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions' && record.method === 'GET') {
          if (new URLSearchParams(query).get('watch') === '1') {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.flushHeaders();
            watchers.add(res);
            res.on('close', () => watchers.delete(res));
            return;
          }
          return send(200, JSON.stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinitionList', metadata: { resourceVersion: String(version) }, items: [...nads.values()] }));
        }
        const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/status)?$/u.exec(record.path);
        const nad = /^\/apis\/k8s\.cni\.cncf\.io\/v1\/namespaces\/([^/]+)\/network-attachment-definitions\/([^/]+)$/u.exec(record.path);
        if (pod && record.method === 'GET' && !pod[3]) {
          const found = pods.get(`${pod[1]}/${pod[2]}`);
          return found ? send(200, JSON.stringify(found)) : send(404, status(404, 'NotFound', `pods "${pod[2]}" not found`));
        }
        if (pod && record.method === 'PATCH' && pod[3]) {
          if (record.contentType !== 'application/merge-patch+json') return send(415, status(415, 'UnsupportedMediaType', 'unsupported patch type'));
          const found = pods.get(`${pod[1]}/${pod[2]}`);
          if (!found) return send(404, status(404, 'NotFound', `pods "${pod[2]}" not found`));
          const patch = JSON.parse(record.body) as { metadata?: { annotations?: Record<string, string | null> } };
          const metadata = found.metadata as { annotations?: Record<string, string> };
          const annotations = { ...(metadata.annotations ?? {}) };
          for (const [k, v] of Object.entries(patch.metadata?.annotations ?? {})) {
            if (v === null) delete annotations[k];
            else annotations[k] = v;
          }
          metadata.annotations = annotations;
          return send(200, JSON.stringify(found));
        }
        if (nad && record.method === 'GET') {
          const found = nads.get(`${nad[1]}/${nad[2]}`);
          return found
            ? send(200, JSON.stringify(found))
            : send(404, status(404, 'NotFound', `network-attachment-definitions.k8s.cni.cncf.io "${nad[2]}" not found`));
        }
        return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      };
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      }
      if (fault?.delayMs) setTimeout(answer, fault.delayMs);
      else answer();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    ca: cert,
    token,
    requests,
    patches,
    pods,
    nads,
    addPod(namespace, name, annotations = {}) {
      pods.set(`${namespace}/${name}`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace, uid: `uid-${name}`, annotations },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
    },
    addNad(namespace, name, config, annotations) {
      const key = `${namespace}/${name}`;
      const type = nads.has(key) ? 'MODIFIED' : 'ADDED';
      const nad = {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name, namespace, resourceVersion: String(++version), ...(annotations ? { annotations } : {}) },
        ...(config === undefined ? {} : { spec: { config } }),
      };
      nads.set(key, nad);
      notify(type, nad);
    },
    deleteNad(namespace, name) {
      const nad = nads.get(`${namespace}/${name}`);
      if (!nad) return;
      nads.delete(`${namespace}/${name}`);
      version++;
      notify('DELETED', nad);
    },
    get watches() {
      return watchers.size;
    },
    fault(fault) {
      faults.push({ ...fault });
    },
    writeKubeconfig(dir) {
      const file = join(dir, 'multinet.kubeconfig');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '  - name: test',
          '    cluster:',
          `      server: ${url}`,
          `      certificate-authority-data: ${Buffer.from(cert).toString('base64')}`,
          'users:',
          '  - name: multinet',
          '    user:',
          `      token: ${token}`,
          'contexts:',
          '  - name: multinet',
          '    context: {cluster: test, user: multinet}',
          'current-context: multinet',
          '',
        ].join('\n'),
      );
      return file;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
