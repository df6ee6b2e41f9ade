// SPDX-License-Identifier: Apache-2.0
export { plugins } from './plugins.ts';
export type { PluginName } from './plugins.ts';
export { BUNDLE_VERSION } from './version.ts';
