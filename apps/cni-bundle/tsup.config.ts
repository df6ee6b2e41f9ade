// SPDX-License-Identifier: Apache-2.0
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

// One entry per launcher in src/bin: dist/bin/<name>, named as upstream names the binary.
const entry = Object.fromEntries(
  readdirSync('src/bin')
    .filter((file) => file.endsWith('.ts') && !file.includes('.test.'))
    .map((file) => [file.slice(0, -3), `src/bin/${file}`]),
);

// The build writes into a staging folder and then renames each executable over the old one, so a
// rebuild never leaves a moment where dist/bin/<name> is missing or half written (tests and
// runtimes may be running them).
const staging = `dist/.staging-${process.pid}`;

export default defineConfig({
  entry,
  outDir: staging,
  // CommonJS: an executable copied to /opt/cni/bin has no package.json to say it is a module.
  format: ['cjs'],
  target: 'node20',
  platform: 'node',
  // Each executable holds its plugin and the workspace libraries, from their sources.
  noExternal: [/^@cni\//],
  // ffi-rs loads a native addon esbuild cannot bundle: it is required at run time from the
  // bundle's node_modules, and `shims` gives @cni/netlink's createRequire(import.meta.url) a URL in CJS.
  external: ['ffi-rs'],
  shims: true,
  esbuildOptions(options) {
    options.conditions = ['@cni/source', ...(options.conditions ?? [])];
  },
  define: { __CNI_VERSION__: JSON.stringify(version) },
  banner: { js: '#!/usr/bin/env node' },
  splitting: false,
  sourcemap: false,
  dts: false,
  clean: false,
  async onSuccess() {
    mkdirSync('dist/bin', { recursive: true });
    // Inside this package ("type": "module") Node would read an extensionless file as ESM.
    writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
    for (const name of Object.keys(entry)) {
      // Upstream's names have no extension, which tsup's outExtension cannot express.
      chmodSync(`${staging}/${name}.cjs`, 0o755);
      renameSync(`${staging}/${name}.cjs`, `dist/bin/${name}`);
    }
    // Executables of plugins no longer registered go.
    for (const file of readdirSync('dist/bin')) if (!(file in entry)) rmSync(`dist/bin/${file}`, { force: true });
    if (existsSync(staging)) rmSync(staging, { recursive: true, force: true });
  },
});
