// SPDX-License-Identifier: Apache-2.0
import { argString, type PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, decodeConfig, invalidConfigError, type NetConf } from '@cni/spec';

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
 * error is code 7 naming the key and value (every wrong key at once), before anything is made.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'loadArgs'>): BridgeNetConf {
  const conf = request.conf;
  const keys = decodeConfig(conf, (r) => {
    const bridge = r.optString('bridge') || DEFAULT_BRIDGE;
    if (!LINK_NAME.test(bridge) || bridge === '.' || bridge === '..') r.fail('bridge', bridge, 'an interface name (1-15 bytes, no "/", ":" or spaces)');
    const ipam = r.optObject('ipam');
    return {
      bridge,
      isDefaultGateway: r.bool('isDefaultGateway'),
      isGateway: r.bool('isGateway'),
      forceAddress: r.bool('forceAddress'),
      ipMasq: r.bool('ipMasq'),
      ipMasqBackend: r.optOneOf('ipMasqBackend', IP_MASQ_BACKENDS),
      mtu: r.int('mtu', { min: 0, max: 65535 }, 0),
      hairpinMode: r.bool('hairpinMode'),
      promiscMode: r.bool('promiscMode'),
      vlan: r.int('vlan', { min: 0, max: 4094 }, 0),
      preserveDefaultVlan: r.bool('preserveDefaultVlan'),
      macspoofchk: r.bool('macspoofchk'),
      enabledad: r.bool('enabledad'),
      disableContainerInterface: r.bool('disableContainerInterface'),
      portIsolation: r.bool('portIsolation'),
      ipamType: ipam?.optString('type') ?? '',
    };
  });
  const vlans = collectVlanTrunk(conf['vlanTrunk']);
  if (keys.hairpinMode && keys.promiscMode) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'cannot set hairpin mode and promiscuous mode at the same time');
  }
  const isLayer3 = keys.ipamType !== '';
  if (isLayer3 && keys.disableContainerInterface) {
    throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'cannot use IPAM when DisableContainerInterface flag is set');
  }

  // The MAC, by upstream's precedence: runtimeConfig over args.cni over CNI_ARGS.
  const args = request.loadArgs({ MAC: argString });
  const mac =
    macKey(conf.runtimeConfig?.mac, 'runtimeConfig.mac') ?? macKey(conf.args?.cni?.['mac'], 'args.cni.mac') ?? macKey(args.MAC, 'CNI_ARGS MAC');

  const { ipamType: _ipamType, ...rest } = keys;
  return {
    ...conf,
    ...rest,
    isGateway: keys.isGateway || keys.isDefaultGateway,
    vlanTrunk: conf['vlanTrunk'] === undefined || conf['vlanTrunk'] === null ? undefined : (conf['vlanTrunk'] as VlanTrunk[]),
    vlans,
    mac,
    isLayer3,
  };
}
