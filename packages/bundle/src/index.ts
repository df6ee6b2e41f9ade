// SPDX-License-Identifier: Apache-2.0
export { buildBundle, BundleError } from './build.ts';
export type { BundleArch, BundleOptions, BundleReport } from './build.ts';
export { ownPlugins } from './registry.ts';
export type { OwnPlugin } from './registry.ts';
