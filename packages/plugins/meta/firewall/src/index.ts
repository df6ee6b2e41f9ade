// SPDX-License-Identifier: Apache-2.0
export { firewall } from './firewall.ts';
export {
  loadConf,
  resultAddresses,
  FIREWALL_BACKENDS,
  INGRESS_POLICIES,
  DEFAULT_ADMIN_CHAIN,
  DEFAULT_FIREWALLD_ZONE,
} from './net-conf.ts';
export type { FirewallNetConf, FirewallBackendName, IngressPolicy, FirewallAddress } from './net-conf.ts';
export {
  IptablesFirewall,
  FORWARD_CHAIN,
  OWNERS_CHAIN,
  addressRules,
  forwardJumpRule,
  adminJumpRule,
  ownerComment,
  parseOwnerComment,
} from './iptables-backend.ts';
export type { Attachment } from './iptables-backend.ts';
export { FirewalldFirewall, isFirewalldRunning, systemBusMayExist } from './firewalld-backend.ts';
export { setupIngressPolicy, checkIngressPolicy, isolationRules, ISOLATION_STAGE_1, ISOLATION_STAGE_2 } from './ingress-policy.ts';
