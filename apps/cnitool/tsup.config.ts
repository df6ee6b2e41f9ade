// SPDX-License-Identifier: Apache-2.0
import { chmodSync } from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { cnitool: 'src/cli.ts' },
  format: ['esm'],
  outExtension: () => ({ js: '.mjs' }),
  target: 'node20',
  platform: 'node',
  // One self-contained file: the workspace libraries bundled from their sources.
  noExternal: [/^@cni\//],
  esbuildOptions(options) {
    options.conditions = ['@cni/source', ...(options.conditions ?? [])];
  },
  banner: { js: '#!/usr/bin/env node' },
  splitting: false,
  sourcemap: false,
  dts: false,
  clean: true,
  onSuccess: async () => chmodSync('dist/cnitool.mjs', 0o755),
});
