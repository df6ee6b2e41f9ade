// SPDX-License-Identifier: Apache-2.0
// The names CNI's masquerade and macspoofchk recipes give their rules, chains and comments: the
// values upstream's plugins write, so that rules from either are found by the other.
import { formatHashWithPrefix, NFT_COMMENT_MAX_BYTES, truncateUtf8 } from '@cni/netfilter';

/** The 16-character hash naming a network in the nftables masquerade comments. */
export function masqueradeNetworkHash(network: string): string {
  return formatHashWithPrefix(16, '', network);
}

/**
 * The `<hash16(network)>-<hash16(ifname:containerID)>` prefix that identifies the nftables
 * masquerade rules of one attachment.
 */
export function masqueradeInstanceHash(network: string, ifName: string, containerId: string): string {
  return `${masqueradeNetworkHash(network)}-${formatHashWithPrefix(16, '', `${ifName}:${containerId}`)}`;
}

/**
 * The nftables masquerade comment: the instance hash, then a readable description with double
 * quotes removed, cut to 128 bytes (upstream's `commentForInstance`).
 */
export function masqueradeComment(network: string, ifName: string, containerId: string): string {
  const strip = (value: string) => value.replaceAll('"', '');
  const comment = `${masqueradeInstanceHash(network, ifName, containerId)}, net: ${strip(network)}, if: ${strip(ifName)}, id: ${strip(containerId)}`;
  return truncateUtf8(comment, NFT_COMMENT_MAX_BYTES);
}

/**
 * The identifier of one macspoofchk attachment, `<containerID>-<ifname>`, from which its
 * chain names and rule comments derive (upstream bridge's `uniqueID`).
 */
export function macSpoofCheckRefId(containerId: string, ifName: string): string {
  return `${containerId}-${ifName}`;
}

/** The per-attachment macspoofchk chain, `cni-br-iface-<refId>`; its MAC chain adds `-mac`. */
export function macSpoofCheckChain(refId: string): string {
  return `cni-br-iface-${refId}`;
}

/** The comment on every macspoofchk rule, `macspoofchk-<refId>`. */
export function macSpoofCheckComment(refId: string): string {
  return `macspoofchk-${refId}`;
}
