// SPDX-License-Identifier: Apache-2.0
import { chmodSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

// One entry per launcher in src/bin: dist/bin/<name>, named as upstream names the binary.
const entry = Object.fromEntries(
  readdirSync('src/bin')
    .filter((file) => file.endsWith('.ts') && !file.includes('.test.'))
    .map((file) => [file.slice(0, -3), `src/bin/${file}`]),
);

export default defineConfig({
  entry,
  outDir: 'dist/bin',
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
  clean: true,
  async onSuccess() {
    for (const name of Object.keys(entry)) {
      // Upstream's names have no extension, which tsup's outExtension cannot express.
      renameSync(`dist/bin/${name}.cjs`, `dist/bin/${name}`);
      chmodSync(`dist/bin/${name}`, 0o755);
    }
    // Inside this package ("type": "module") Node would read an extensionless file as ESM.
    writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');
  },
});
