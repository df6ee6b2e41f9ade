// SPDX-License-Identifier: Apache-2.0
import { argString, type PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, type NetConf } from '@cni/spec';
import { boolKey, intKey, stringKey } from './internal/keys.ts';

/** The masquerade backends `ipMasqBackend` names. */
export const IP_MASQ_BACKENDS = ['iptables', 'nftables'] as const;

/** The bridge upstream uses when `bridge` is not set. */
export const DEFAULT_BRIDGE = 'cni0';

/** One `vlanTrunk` entry: a single `id`, or a `minID`..`maxID` range, or both. */
export interface VlanTrunk {
  id?: number;
  minID?: number;
  maxID?: number;
}

/** bridge's configuration: the standard keys plus its own, defaults applied. */
export interface BridgeNetConf extends NetConf {
  /** The bridge's name; created when missing. Default `cni0`. */
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  ipMasqBackend: (typeof IP_MASQ_BACKENDS)[number] | undefined;
  mtu: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  vlan: number;
  vlanTrunk: VlanTrunk[] | undefined;
  preserveDefaultVlan: boolean;
  macspoofchk: boolean;
  enabledad: boolean;
  disableContainerInterface: boolean;
  portIsolation: boolean;
  /** The trunk's VLAN IDs, sorted, without duplicates. */
  vlans: number[];
  /** The container MAC: runtimeConfig.mac, else args.cni.mac, else CNI_ARGS MAC. */
  mac: string | undefined;
  /** True when an IPAM plugin is configured; without one the attachment is layer 2 only. */
  isLayer3: boolean;
}

const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;
const LINK_NAME = /^[^\s/:]{1,15}$/;

function vlanId(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 4094) {
    throw invalidConfigError(key, value, 'an integer in [1, 4094]');
  }
  return value;
}

/**
 * The trunk's VLANs as upstream's `collectVlanTrunk`: each entry an `id`, a `minID`/`maxID`
 * range (both needed, min <= max), or both; IDs in [1, 4094]; the union, sorted.
 */
export function collectVlanTrunk(trunk: unknown): number[] {
  if (trunk === undefined || trunk === null) return [];
  if (!Array.isArray(trunk)) throw invalidConfigError('vlanTrunk', trunk, 'a list of {id} or {minID, maxID}');
  const vlans = new Set<number>();
  trunk.forEach((item: unknown, index) => {
    const key = `vlanTrunk[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidConfigError(key, item, 'an object');
    const { id, minID, maxID } = item as Record<string, unknown>;
    const hasMin = minID !== undefined && minID !== null;
    const hasMax = maxID !== undefined && maxID !== null;
    if (hasMin !== hasMax) {
      throw new CniError(
        CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
        `${key}: minID and maxID should be configured simultaneously, ${hasMin ? 'maxID' : 'minID'} is missing`,
      );
    }
    if (hasMin) {
      const min = vlanId(minID, `${key}.minID`);
      const max = vlanId(maxID, `${key}.maxID`);
      if (max < min) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, `${key}: minID ${min} is greater than maxID ${max}`);
      for (let vid = min; vid <= max; vid++) vlans.add(vid);
    }
    if (id !== undefined && id !== null) vlans.add(vlanId(id, `${key}.id`));
  });
  return [...vlans].sort((a, b) => a - b);
}

function macKey(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !MAC.test(value)) throw invalidConfigError(key, value, 'a MAC address');
  return value.toLowerCase().replaceAll('-', ':');
}

/**
 * Read bridge's keys as upstream's `loadNetConf`, with CNI_ARGS (`MAC`, and upstream's rule that
 * any other key fails unless `IgnoreUnknown=1`), and refuse conflicting options up front. Every
 * error is code 7 naming the key and value, before anything is made.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'loadArgs'>): BridgeNetConf {
  const conf = request.conf;
  const bridge = stringKey(conf, 'bridge') || DEFAULT_BRIDGE;
  if (!LINK_NAME.test(bridge) || bridge === '.' || bridge === '..') throw invalidConfigError('bridge', bridge, 'an interface name (1-15 bytes, no "/", ":" or spaces)');
  const isDefaultGateway = boolKey(conf, 'isDefaultGateway');
  const isGateway = boolKey(conf, 'isGateway') || isDefaultGateway;
  const vlan = intKey(conf, 'vlan', 0, 4094);
  const vlans = collectVlanTrunk(conf['vlanTrunk']);
  const hairpinMode = boolKey(conf, 'hairpinMode');
  const promiscMode = boolKey(conf, 'promiscMode');
  if (hairpinMode && promiscMode) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'cannot set hairpin mode and promiscuous mode at the same time');
  }
  const ipam = conf.ipam;
  if (ipam !== undefined && ipam !== null && (typeof ipam !== 'object' || Array.isArray(ipam))) throw invalidConfigError('ipam', ipam, 'an object');
  const ipamType = ipam?.type ?? '';
  if (typeof ipamType !== 'string') throw invalidConfigError('ipam.type', ipamType, 'a string');
  const isLayer3 = ipamType !== '';
  const disableContainerInterface = boolKey(conf, 'disableContainerInterface');
  if (isLayer3 && disableContainerInterface) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'cannot use IPAM when DisableContainerInterface flag is set');
  }

  // The MAC, by upstream's precedence: runtimeConfig over args.cni over CNI_ARGS.
  const args = request.loadArgs({ MAC: argString });
  const mac =
    macKey(conf.runtimeConfig?.mac, 'runtimeConfig.mac') ?? macKey(conf.args?.cni?.['mac'], 'args.cni.mac') ?? macKey(args.MAC, 'CNI_ARGS MAC');

  return {
    ...conf,
    bridge,
    isGateway,
    isDefaultGateway,
    forceAddress: boolKey(conf, 'forceAddress'),
    ipMasq: boolKey(conf, 'ipMasq'),
    ipMasqBackend: stringKey(conf, 'ipMasqBackend', IP_MASQ_BACKENDS) as BridgeNetConf['ipMasqBackend'],
    mtu: intKey(conf, 'mtu', 0, 65535),
    hairpinMode,
    promiscMode,
    vlan,
    vlanTrunk: conf['vlanTrunk'] === undefined || conf['vlanTrunk'] === null ? undefined : (conf['vlanTrunk'] as VlanTrunk[]),
    preserveDefaultVlan: boolKey(conf, 'preserveDefaultVlan'),
    macspoofchk: boolKey(conf, 'macspoofchk'),
    enabledad: boolKey(conf, 'enabledad'),
    disableContainerInterface,
    portIsolation: boolKey(conf, 'portIsolation'),
    vlans,
    mac,
    isLayer3,
  };
}
