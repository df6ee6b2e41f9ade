// SPDX-License-Identifier: Apache-2.0
import type { Options } from 'tsup';

/**
 * The build every library shares: one ESM entry with its declarations.
 * Kept as small as possible so that a later move to tsdown is mechanical.
 */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
};
