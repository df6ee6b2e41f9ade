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
  resolveNadConfig,
  loadNetworkByPathOrName,
} from './nad.ts';
export type { NetworkAttachmentDefinition, NadSource, ResolveOptions } from './nad.ts';
export { parseNadManifests, loadNadDirectory, nadDirectorySource } from './manifests.ts';

export { KubeClient, KubeApiError, kubeconfigOptions, inClusterOptions, SERVICE_ACCOUNT_DIR } from './kube.ts';
export type { KubeApi, KubeClientOptions, ExecCredentialCommand, Pod } from './kube.ts';

export { parseMultinetConf, DEFAULTS } from './conf.ts';
export type { MultinetConf } from './conf.ts';

export {
  ATTACHMENT_CACHE_KIND,
  attachmentCachePath,
  writeAttachmentCache,
  readAttachmentCache,
  deleteAttachmentCache,
  listAttachmentCaches,
} from './cache.ts';
export type { AttachmentRecord, CachedAttachment, CacheRead } from './cache.ts';

export { networkStatus } from './status.ts';
export type { NetworkStatus, StatusInput } from './status.ts';

export { applyDefaultRoute } from './routes.ts';

export { multinet, createMultinet } from './multinet.ts';
export { RESIDENT_FLAG, isResident, watchedNadDirectory, sharedKubeClient, sharedNadInformer, NadInformer, resetResidentCaches } from './resident.ts';
export type { NadWatchApi } from './resident.ts';
export type { MultinetOptions } from './multinet.ts';

export {
  MULTINET_CONFLIST,
  INSTALLER_DEFAULTS,
  findPrimaryConfig,
  buildMultinetConfList,
  installMultinetConfig,
  serviceAccountKubeconfig,
  runInstaller,
} from './install.ts';
export type { InstallOptions } from './install.ts';
export type { DeviceSourceOptions } from './device/resources.ts';
