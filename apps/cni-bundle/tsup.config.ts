// SPDX-License-Identifier: Apache-2.0
import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

// One file per plugin (plugins/<name>.cjs, from the launcher src/bin/<name>.ts), the dispatcher
// main.cjs and the bundle's own command tool.cjs. scripts/assemble.mjs then puts them beside the
// runtime and the launcher and installs the result into dist/bin.
const entry = {
  main: 'src/main.ts',
  tool: 'src/tool.ts',
  worker: 'src/daemon/worker.ts',
  ...Object.fromEntries(
    readdirSync('src/bin')
      .filter((file) => file.endsWith('.ts') && !file.includes('.test.'))
      .map((file) => [`plugins/${file.slice(0, -3)}`, `src/bin/${file}`]),
  ),
};

export default defineConfig({
  entry,
  // One folder per build (`tsup && node scripts/assemble.mjs` share their parent shell), so two
  // builds at once never clean or read each other's files.
  outDir: `dist/.js-${process.ppid}`,
  // CommonJS: require() of a plugin's file from another (in-process delegation) is synchronous
  // and cheap, and a payload folder has no package.json to say its files are modules.
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  target: 'node22',
  platform: 'node',
  // Each file holds its plugin and the workspace libraries, from their sources.
  noExternal: [/^@cni\//],
  // ffi-rs loads a native addon esbuild cannot bundle: it is required at run time from the
  // payload's node_modules.
  external: ['ffi-rs'],
  esbuildOptions(options) {
    options.conditions = ['@cni/source', ...(options.conditions ?? [])];
  },
  define: {
    __CNI_VERSION__: JSON.stringify(version),
    // The libraries use import.meta.url only for createRequire(), which takes a path as well.
    // tsup's shim would build a URL at load time, which costs milliseconds of every start.
    'import.meta.url': '__filename',
  },
  splitting: false,
  sourcemap: false,
  dts: false,
  clean: true,
});
