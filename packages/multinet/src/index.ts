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

export {
  NAD_API_VERSION,
  NAD_KIND,
  NAD_ANNOTATIONS_KEY,
  toNad,
  parseNadManifests,
  loadNadDirectory,
  nadDirectorySource,
  resolveNadConfig,
  loadNetworkByPathOrName,
} from './nad.ts';
export type { NetworkAttachmentDefinition, NadSource, ResolveOptions } from './nad.ts';

export { KubeClient, KubeApiError, kubeconfigOptions, inClusterOptions, SERVICE_ACCOUNT_DIR } from './kube.ts';
export type { KubeApi, KubeClientOptions, Pod } from './kube.ts';
