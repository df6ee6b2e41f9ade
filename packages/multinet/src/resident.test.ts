// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, kubeconfigOptions } from './kube.ts';
import { nadDirectorySource } from './manifests.ts';
import { NadInformer, resetResidentCaches, watchedNadDirectory } from './resident.ts';
import { startKubeServer } from './testing/kube-server.ts';

const nad = (name: string, master: string) =>
  JSON.stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace: 'web' }, spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master }) } });
const master = async (source: { getNad(ns: string, name: string): Promise<{ spec?: { config?: string } } | undefined> }, name: string) => {
  const found = await source.getNad('web', name);
  return found ? (JSON.parse(found.spec!.config!) as { master: string }).master : undefined;
};

describe('watchedNadDirectory (thick mode)', () => {
  let dir: string | undefined;
  afterEach(() => {
    resetResidentCaches();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses the folder once while it is unchanged, and the next read sees a change at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'multinet-watch-'));
    const folder = dir;
    writeFileSync(join(folder, 'side.json'), nad('side', 'eth0'));
    let loads = 0;
    const source = () => watchedNadDirectory(folder, () => (loads++, nadDirectorySource(folder)));
    expect(await master(source(), 'side')).toBe('eth0');
    expect(await master(source(), 'side')).toBe('eth0');
    expect(loads).toBe(1);
    // No wait for the watch's event: the read itself notices.
    writeFileSync(join(folder, 'side.json'), nad('side', 'eth1'));
    expect(await master(source(), 'side')).toBe('eth1');
    writeFileSync(join(folder, 'more.yaml'), nad('more', 'eth2'));
    expect(await master(source(), 'more')).toBe('eth2');
    rmSync(join(folder, 'side.json'));
    expect(await master(source(), 'side')).toBeUndefined();
    expect(loads).toBe(4);
  });
});

describe('NadInformer (thick mode, API)', () => {
  it('reads through until listed, then serves from the list and the watch; a change on the API is read from the watch', async () => {
    const server = await startKubeServer();
    const dir = mkdtempSync(join(tmpdir(), 'multinet-informer-'));
    const client = new KubeClient({ ...kubeconfigOptions(server.writeKubeconfig(dir)), retryDelayMs: 5 });
    const informer = new NadInformer(client, { retryMs: 20 });
    const config = (m: string) => JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: m });
    const nadGets = () => server.requests.filter((r) => r.path.startsWith('/apis/k8s.cni.cncf.io/v1/namespaces/')).length;
    const until = async (what: string, check: () => boolean | Promise<boolean>) => {
      for (const end = Date.now() + 5000; !(await check()); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) throw new Error(`timed out: ${what}`);
    };
    try {
      server.addNad('web', 'side', config('eth0'));
      // Not synced yet: the first read goes to the API.
      expect(await master(informer, 'side')).toBe('eth0');
      expect(nadGets()).toBe(1);
      await until('the informer to list and watch', () => informer.synced && server.watches === 1);
      expect(await master(informer, 'side')).toBe('eth0');
      expect(nadGets()).toBe(1);
      // A change arrives by the watch, not by a GET.
      server.addNad('web', 'side', config('eth1'));
      await until('the MODIFIED event', async () => (await master(informer, 'side')) === 'eth1');
      expect(nadGets()).toBe(1);
      // One the cache has not seen yet is read through.
      server.nads.set('web/fresh', { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'fresh', namespace: 'web' }, spec: { config: config('eth2') } });
      expect(await master(informer, 'fresh')).toBe('eth2');
      server.deleteNad('web', 'side');
      await until('the DELETED event', async () => (await informer.getNad('web', 'side')) === undefined);
      // Created again after the delete: ADDED on the same watch.
      server.addNad('web', 'side', config('eth3'));
      await until('the event', async () => (await master(informer, 'side')) === 'eth3');
    } finally {
      informer.close();
      client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
