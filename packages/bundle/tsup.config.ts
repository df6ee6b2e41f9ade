// SPDX-License-Identifier: Apache-2.0
import { defineConfig } from 'tsup';

// Where the bundle's runtime lives: the dispatcher, the `cni-bundle` tool, the resident daemon's
// worker and the launcher are apps/cni-bundle's; this package ships them prebuilt.
const app = '../../apps/cni-bundle';

export default defineConfig([
  {
    // The command, the API and the module every generated plugin entry imports (its @cni/*
    // imports stay imports, so a user's plugin and ours share one copy of skel and spec).
    entry: { index: 'src/index.ts', cli: 'src/cli.ts', runtime: 'src/runtime.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts', runtime: 'src/runtime.ts' } },
    sourcemap: false,
    clean: false,
    esbuildOptions(options) {
      options.conditions = ['@cni/source', ...(options.conditions ?? [])];
    },
  },
  {
    // The payload's own files: fully bundled from the sources, as the bundle runs them.
    entry: { main: `${app}/src/main.ts`, tool: `${app}/src/tool.ts`, worker: `${app}/src/daemon/worker.ts` },
    outDir: 'dist/payload',
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    target: 'node22',
    platform: 'node',
    noExternal: [/^@cni\//],
    external: ['ffi-rs'],
    esbuildOptions(options) {
      options.conditions = ['@cni/source', ...(options.conditions ?? [])];
    },
    define: { 'import.meta.url': '__filename' },
    splitting: false,
    sourcemap: false,
    dts: false,
    clean: false,
  },
]);
