// SPDX-License-Identifier: Apache-2.0
// The executables ship this package bundled, as an ES module or as CommonJS (a single executable
// application needs the latter). Bundlers rewrite `require` and `import.meta` in both, so check
// that libc still loads from each form, in a fresh process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('bundled @cni/sys', () => {
  it.each([
    ['esm', 'sys.mjs', `import * as sys from './sys.mjs';`],
    ['cjs', 'sys.cjs', `const sys = require('./sys.cjs');`],
  ] as const)('loads libc from a %s bundle', async (format, file, load) => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-sys-bundle-'));
    dirs.push(dir);
    await build({
      entryPoints: [join(here, 'index.ts')],
      bundle: true,
      format,
      platform: 'node',
      external: ['ffi-rs'],
      outfile: join(dir, file),
      logLevel: 'error',
    });
    const main = join(dir, format === 'esm' ? 'main.mjs' : 'main.cjs');
    writeFileSync(
      main,
      `${load}
      const fd = sys.socket(sys.AF_INET, sys.SOCK_DGRAM);
      sys.close(fd);
      let tag;
      try { sys.close(fd); } catch (error) { tag = error.tag; }
      process.stdout.write(JSON.stringify({ fd, tag }));`,
    );
    const output = execFileSync(process.execPath, [main], {
      encoding: 'utf8',
      // The bundle leaves ffi-rs outside, as the executables' packaging does; find it in ours.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_PATH: join(here, '../node_modules') },
    });
    const result = JSON.parse(output) as { fd: number; tag: string };
    expect(result.fd).toBeGreaterThan(2);
    expect(result.tag).toBe('InvalidArgument');
  });
});
