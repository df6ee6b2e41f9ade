// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nadDirectorySource } from './manifests.ts';
import { resetResidentCaches, watchedNadDirectory } from './resident.ts';

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
