// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containerdConfig, containerdDirs, goArch, nadYaml, writePauseImage } from './config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('containerd configuration', () => {
  it('keeps every path of containerd, runc and CRI under the given folder and points CNI at the bundle', () => {
    const toml = containerdConfig({ dirs: containerdDirs('/tmp/x'), binDir: '/opt/bundle', sandboxImage: 'localhost/pause:1' });
    expect(toml).toContain('root = "/tmp/x/root"');
    expect(toml).toContain('state = "/tmp/x/state"');
    expect(toml).toContain('address = "/tmp/x/containerd.sock"');
    expect(toml).toContain('Root = "/tmp/x/runc"');
    expect(toml).toContain('bin_dir = "/opt/bundle"');
    expect(toml).toContain('conf_dir = "/tmp/x/net.d"');
    expect(toml).toContain('sandbox_image = "localhost/pause:1"');
    expect(toml).toContain('snapshotter = "native"');
  });

  it('maps Node architectures to Go names', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
  });

  it.skipIf(!existsSync('/bin/busybox'))('writes a docker-archive whose config names the layer by its SHA-256', () => {
    const work = mkdtempSync(join(tmpdir(), 'ctrd-image-'));
    dirs.push(work);
    const tarball = writePauseImage(work, 'localhost/pause:1');
    const out = join(work, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-C', out, '-xf', tarball]);
    const [manifest] = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest!.RepoTags).toEqual(['localhost/pause:1']);
    const config = JSON.parse(readFileSync(join(out, manifest!.Config), 'utf8')) as { os: string; rootfs: { diff_ids: string[] }; config: { Entrypoint: string[] } };
    expect(config.os).toBe('linux');
    const layer = readFileSync(join(out, manifest!.Layers[0]!));
    expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
    expect(execFileSync('tar', ['-tf', join(out, manifest!.Layers[0]!)], { encoding: 'utf8' })).toContain('./bin/busybox');
    expect(config.config.Entrypoint[0]).toBe('/bin/busybox');
  });

  it('writes a NAD as the Multus docs print it: the closing quote at the start of its line', () => {
    const text = nadYaml('a', 'web', { type: 'bridge' });
    expect(text).toMatch(/ {2}config: '\{\n {6}"type": "bridge"\n\}'\n$/);
  });
});
