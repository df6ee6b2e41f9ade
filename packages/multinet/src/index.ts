// SPDX-License-Identifier: Apache-2.0
export { MultinetError } from './errors.ts';
export type { MultinetErrorOptions } from './errors.ts';

export {
  NETWORKS_ANNOTATION,
  NETWORK_STATUS_ANNOTATION,
  DEFAULT_NETWORK_ANNOTATION,
  parseNetworkSelection,
  parseDefaultNetworkAnnotation,
  interfaceNameProblem,
} from './annotations.ts';
export type { NetworkSelection, PortMappingRequest, BandwidthRequest } from './annotations.ts';
