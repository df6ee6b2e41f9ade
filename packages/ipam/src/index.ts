// SPDX-License-Identifier: Apache-2.0
/**
 * Applying an IPAM result to an interface, and running a plugin's IPAM through skel's delegation.
 *
 * @packageDocumentation
 */
export { configureIface } from './configure.ts';
export { readDns, readRequestedIps, readRoute, readRoutes } from './config.ts';
export { validateExpectedInterfaceIps, validateExpectedRoutes } from './validate.ts';
export type { ConfigureOptions } from './configure.ts';

export { ipamType, ipamAdd, ipamDel, ipamCheck, ipamGc, ipamStatus, ipamAddFor } from './delegate.ts';
export type { IpamAddForOptions } from './delegate.ts';

export { IpamError } from './errors.ts';
export type { IpamErrorOptions } from './errors.ts';
