// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inClusterOptions, KubeApiError, KubeClient, kubeconfigOptions } from './kube.ts';
import { startKubeServer, type KubeServer } from './testing/kube-server.ts';

let server: KubeServer;
let dir: string;
const clients: KubeClient[] = [];

beforeEach(async () => {
  server = await startKubeServer();
  dir = mkdtempSync(join(tmpdir(), 'multinet-kube-'));
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(extra: Partial<ConstructorParameters<typeof KubeClient>[0]> = {}): KubeClient {
  const made = new KubeClient({ ...kubeconfigOptions(server.writeKubeconfig(dir)), retryDelayMs: 5, ...extra });
  clients.push(made);
  return made;
}

describe('KubeClient', () => {
  it('reads a kubeconfig and gets a pod and a NAD over TLS with the bearer token', async () => {
    server.addPod('default', 'web', { a: 'b' });
    server.addNad('extns', 'data-network', '{"cniVersion":"1.0.0","type":"macvlan"}');
    const kube = client();
    expect((await kube.getPod('default', 'web'))?.metadata.annotations).toEqual({ a: 'b' });
    const nad = await kube.getNad('extns', 'data-network');
    expect(nad?.spec?.config).toBe('{"cniVersion":"1.0.0","type":"macvlan"}');
    expect(server.requests.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/default/pods/web',
      '/apis/k8s.cni.cncf.io/v1/namespaces/extns/network-attachment-definitions/data-network',
    ]);
    expect(server.requests.every((r) => r.authorization === `Bearer ${server.token}`)).toBe(true);
  });

  it('puts the API path after the path of a server behind a proxy', async () => {
    const kube = client({ server: `${server.url}/k8s/clusters/c-1/`, retries: 0 });
    expect(await kube.getPod('default', 'web')).toBeUndefined();
    expect(server.requests[0]?.path).toBe('/k8s/clusters/c-1/api/v1/namespaces/default/pods/web');
  });

  it('answers undefined for 404', async () => {
    const kube = client();
    expect(await kube.getPod('default', 'gone')).toBeUndefined();
    expect(await kube.getNad('default', 'gone')).toBeUndefined();
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const kube = new KubeClient({ server: server.url, token: server.token, retries: 0 });
    clients.push(kube);
    await expect(kube.getPod('default', 'web')).rejects.toThrow(/GET \/api\/v1\/namespaces\/default\/pods\/web on "https:\/\/127\.0\.0\.1:\d+" failed/);
  });

  it('reports a wrong token with the server\'s message, without retrying', async () => {
    const kube = client({ token: 'wrong' });
    const error = await kube.getPod('default', 'web').catch((e: unknown) => e);
    expect(KubeApiError.isInstance(error)).toBe(true);
    expect((error as KubeApiError).status).toBe(401);
    expect((error as Error).message).toContain('the API server answered 401: Unauthorized');
    expect(server.requests).toHaveLength(1);
  });

  it('retries 500 and succeeds', async () => {
    server.addPod('default', 'web');
    server.fault({ method: 'GET', status: 500, times: 2 });
    expect((await client().getPod('default', 'web'))?.metadata.name).toBe('web');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after its retries with the last answer', async () => {
    server.fault({ method: 'GET', status: 500, times: 10 });
    await expect(client({ retries: 2 }).getPod('default', 'web')).rejects.toThrow('the API server answered 500: planned failure 500');
    expect(server.requests).toHaveLength(3);
  });

  it('times out a slow answer, then retries', async () => {
    server.addPod('default', 'web');
    server.fault({ method: 'GET', delayMs: 500 });
    const started = Date.now();
    expect((await client({ timeoutMs: 100 }).getPod('default', 'web'))?.metadata.name).toBe('web');
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('fails a slow server once its retries are spent', async () => {
    server.fault({ method: 'GET', delayMs: 400, times: 5 });
    await expect(client({ timeoutMs: 50, retries: 1 }).getPod('default', 'web')).rejects.toThrow('no answer within 50 ms');
  });

  it('patches one annotation with a merge patch on pods/status, retrying 409', async () => {
    server.addPod('default', 'web', { keep: 'me' });
    server.fault({ method: 'PATCH', status: 409 });
    await client().patchPodAnnotation('default', 'web', 'k8s.v1.cni.cncf.io/network-status', '[]');
    expect(server.patches).toHaveLength(2);
    expect(server.patches[1]).toMatchObject({
      path: '/api/v1/namespaces/default/pods/web/status',
      contentType: 'application/merge-patch+json',
      body: '{"metadata":{"annotations":{"k8s.v1.cni.cncf.io/network-status":"[]"}}}',
    });
    expect((server.pods.get('default/web')?.metadata as { annotations: unknown }).annotations).toEqual({
      keep: 'me',
      'k8s.v1.cni.cncf.io/network-status': '[]',
    });
  });

  it('takes a pod gone before the patch as done', async () => {
    await client().patchPodAnnotation('default', 'gone', 'x', 'y');
  });

  it('reads the token file again for every request', async () => {
    server.addPod('default', 'web');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'old\n');
    const noToken = new KubeClient({ server: server.url, ca: server.ca, tokenFile, retries: 0 });
    clients.push(noToken);
    await expect(noToken.getPod('default', 'web')).rejects.toThrow('401');
    writeFileSync(tokenFile, `${server.token}\n`);
    expect((await noToken.getPod('default', 'web'))?.metadata.name).toBe('web');
  });
});

describe('kubeconfig credentials and server names', () => {
  it('gets its token from an exec credential plugin, run once, relative to the kubeconfig', async () => {
    server.addPod('default', 'web');
    const plugin = join(dir, 'bin', 'cred');
    mkdirSync(join(dir, 'bin'));
    // A credential plugin as kubectl runs one: it reads KUBERNETES_EXEC_INFO and prints an ExecCredential.
    writeFileSync(
      plugin,
      `#!${process.execPath}\nconst info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);\nrequire('fs').appendFileSync(${JSON.stringify(join(dir, 'calls'))}, process.argv.slice(2).join(' ') + ' ' + process.env.REGION + '\\n');\nprocess.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential', status: { token: ${JSON.stringify(server.token)} } }));\n`,
      { mode: 0o755 },
    );
    const kubeconfig = server.writeKubeconfig(dir);
    const text = readFileSync(kubeconfig, 'utf8').replace(
      `      token: ${server.token}`,
      ['      exec:', '        apiVersion: client.authentication.k8s.io/v1', '        command: ./bin/cred', '        args: [token, --cluster, c1]', '        env: [{name: REGION, value: eu-1}]'].join('\n'),
    );
    writeFileSync(kubeconfig, text);
    const kube = new KubeClient({ ...kubeconfigOptions(kubeconfig), retries: 0 });
    clients.push(kube);
    expect((await kube.getPod('default', 'web'))?.metadata.name).toBe('web');
    expect((await kube.getPod('default', 'web'))?.metadata.name).toBe('web');
    expect(readFileSync(join(dir, 'calls'), 'utf8')).toBe('token --cluster c1 eu-1\n');
    expect(server.requests.every((r) => r.authorization === `Bearer ${server.token}`)).toBe(true);
  });

  it('names a failing exec credential plugin', async () => {
    const kube = new KubeClient({ server: server.url, ca: server.ca, exec: { command: join(dir, 'missing'), args: [], env: {}, apiVersion: 'client.authentication.k8s.io/v1' }, retries: 0 });
    clients.push(kube);
    await expect(kube.getPod('default', 'web')).rejects.toThrow(`kubeconfig exec credential "${join(dir, 'missing')}" failed`);
  });

  it('checks the certificate against tls-server-name, not the address it connects to', async () => {
    server.addPod('default', 'web');
    const withName = (name: string) => {
      const kubeconfig = server.writeKubeconfig(dir);
      writeFileSync(kubeconfig, readFileSync(kubeconfig, 'utf8').replace('    cluster:\n', `    cluster:\n      tls-server-name: ${name}\n`));
      const kube = new KubeClient({ ...kubeconfigOptions(kubeconfig), retries: 0 });
      clients.push(kube);
      return kube;
    };
    // The test server's certificate names 127.0.0.1 and localhost.
    expect((await withName('localhost').getPod('default', 'web'))?.metadata.name).toBe('web');
    await expect(withName('api.example.test').getPod('default', 'web')).rejects.toThrow(/api\.example\.test/);
  });
});

describe('client options', () => {
  it('reads in-cluster service account files', () => {
    writeFileSync(join(dir, 'ca.crt'), 'PEM');
    writeFileSync(join(dir, 'token'), 't');
    expect(inClusterOptions({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toEqual({
      server: 'https://10.96.0.1:443',
      tokenFile: join(dir, 'token'),
      ca: 'PEM',
    });
    expect(inClusterOptions({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir).server).toBe('https://[fd00::1]:443');
    expect(() => inClusterOptions({}, dir)).toThrow('not in a cluster');
  });

  it('reads file paths relative to the kubeconfig and a token file', () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    writeFileSync(
      join(dir, 'kc'),
      'clusters: [{name: c, cluster: {server: "https://x:6443", certificate-authority: ca.pem}}]\nusers: [{name: u, user: {tokenFile: tok}}]\n',
    );
    expect(kubeconfigOptions(join(dir, 'kc'))).toEqual({ server: 'https://x:6443', ca: 'CA', tokenFile: join(dir, 'tok') });
  });

  it('names what is missing', () => {
    writeFileSync(join(dir, 'kc'), 'current-context: nope\ncontexts: []\n');
    expect(() => kubeconfigOptions(join(dir, 'kc'))).toThrow(`kubeconfig "${join(dir, 'kc')}": no context named "nope"`);
    expect(() => kubeconfigOptions(join(dir, 'missing'))).toThrow('failed to read kubeconfig');
  });
});
