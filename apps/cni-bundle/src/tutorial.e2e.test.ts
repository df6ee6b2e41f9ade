// SPDX-License-Identifier: Apache-2.0
// docs/bundle-your-plugin.md, run as written: every ```sh block in order (one bash each, the
// working folder and exported variables carried from one to the next) and every block with a
// `file=` path written there, in a scratch project outside the workspace that installs the
// packed tarballs of the workspace's packages (`pnpm pack`, which turns workspace: ranges into
// versions) offline from pnpm's store. The oracle is `ip -j`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const page = readFileSync(join(root, 'docs/bundle-your-plugin.md'), 'utf8');
// The namespaces the page makes.
const NAMESPACES = ['my-pod', 'my-host'];

interface Step {
  kind: 'sh' | 'file';
  text: string;
  path?: string;
}

/** The page's runnable blocks, in order: ```sh, and any block whose info string has `file=<path>`. */
function steps(markdown: string): Step[] {
  const found: Step[] = [];
  for (const match of markdown.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, info, text] = match as unknown as [string, string, string, string];
    const file = /\bfile=(\S+)/.exec(info)?.[1];
    if (file !== undefined) found.push({ kind: 'file', path: file, text });
    else if (lang === 'sh') found.push({ kind: 'sh', text });
  }
  return found;
}

function ip(args: string[]): unknown {
  const out = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ip -j ${args.join(' ')}: ${out.stderr}`);
  return JSON.parse(out.stdout || '[]');
}

function dropNamespaces(): void {
  for (const name of NAMESPACES) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
}

describe('docs/bundle-your-plugin.md', () => {
  let scratch: string;

  beforeAll(() => {
    dropNamespaces();
    scratch = mkdtempSync(join(tmpdir(), 'cni-tutorial-'));
  });

  afterAll(() => {
    dropNamespaces();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('runs as written: the user\'s plugin, bundled with ours, runs through cnitool', { timeout: 300_000 }, () => {
    // The packages as the registry would serve them, from `pnpm pack` of the built workspace.
    const tarballs = join(scratch, 'tarballs');
    mkdirSync(tarballs);
    const pack = spawnSync('pnpm', ['-r', '--filter', './packages/**', '--filter', '!@cni/testkit', '--filter', '@cni/cnitool', 'pack', '--pack-destination', tarballs], { cwd: root, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const overrides: Record<string, string> = {};
    for (const file of readdirSync(tarballs)) {
      const manifest = spawnSync('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], { encoding: 'utf8' });
      overrides[(JSON.parse(manifest.stdout) as { name: string }).name] = `file:${join(tarballs, file)}`;
    }
    expect(Object.keys(overrides)).toEqual(expect.arrayContaining(['@cni/bundle', '@cni/cnitool', '@cni/skel', '@cni/netlink']));

    const all = steps(page);
    expect(all.filter((step) => step.kind === 'file').map((step) => step.path)).toEqual(['src/index.ts', 'cni/net.d/10-my-net.conflist']);
    let cwd = scratch;
    let env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      // Offline: third-party packages from pnpm's store (the workspace's install filled it).
      npm_config_offline: 'true',
      // The runtime the workspace's own build downloaded (same pin), rather than 30 MB again.
      CNI_BUNDLE_CACHE: join(root, 'apps/cni-bundle/node_modules/.cache/cni-bundle'),
    };
    const state = join(scratch, '.step');
    for (const step of all) {
      if (step.kind === 'file') {
        mkdirSync(dirname(join(cwd, step.path!)), { recursive: true });
        writeFileSync(join(cwd, step.path!), step.text);
        continue;
      }
      if (step.text.includes('pnpm add')) {
        // Until the packages are on the registry: every @cni/* name resolves to its tarball.
        const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as Record<string, unknown>;
        manifest['pnpm'] = { overrides, onlyBuiltDependencies: ['esbuild'] };
        writeFileSync(join(cwd, 'package.json'), JSON.stringify(manifest, null, 2));
      }
      const script = `${step.text}\npwd > ${state}.cwd\nenv -0 > ${state}.env\n`;
      const out = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, encoding: 'utf8' });
      expect(out.status, `${step.text}\n${out.stderr}${out.stdout}`).toBe(0);
      cwd = readFileSync(`${state}.cwd`, 'utf8').trim();
      env = Object.fromEntries(
        readFileSync(`${state}.env`, 'utf8')
          .split('\0')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );

      if (step.text.includes('cni-bundle-build')) {
        expect(readdirSync(join(cwd, 'dist'))).toContain('my-veth-1.0.0-linux-x64.tar.gz');
      }
      if (/cnitool add/.test(step.text)) {
        type Link = { ifname: string; mtu: number; link_type: string; addr_info?: { family: string; local: string; prefixlen: number }[] };
        const [eth0] = ip(['-n', 'my-pod', 'address', 'show', 'eth0']) as Link[];
        expect(eth0!.mtu).toBe(1400);
        expect(eth0!.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.99.0.2/24']);
        const veths = ip(['-n', 'my-host', 'link', 'show', 'type', 'veth']) as Link[];
        expect(veths.map((link) => link.ifname)).toEqual([expect.stringMatching(/^mv-[0-9a-f]{12}$/)]);
        expect(existsSync(join(cwd, 'cni/ipam/my-net/10.99.0.2'))).toBe(true);
      }
      if (/cnitool del/.test(step.text)) {
        expect(ip(['-n', 'my-host', 'link', 'show', 'type', 'veth'])).toEqual([]);
        expect(ip(['-n', 'my-pod', 'link', 'show', 'type', 'veth'])).toEqual([]);
        expect(existsSync(join(cwd, 'cni/ipam/my-net/10.99.0.2'))).toBe(false);
      }
    }
    // The page's last block removed its namespaces.
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/^my-(pod|host)\b/m);
  });
});
