// SPDX-License-Identifier: Apache-2.0
/**
 * The static IPAM plugin.
 *
 * @packageDocumentation
 */
export { loadStaticConfig, staticIpam } from './plugin.ts';
export type { StaticAddress, StaticConfig, StaticConfigInput } from './plugin.ts';
