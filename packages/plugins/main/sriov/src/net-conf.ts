// SPDX-License-Identifier: Apache-2.0
import type { VfLinkState, VfVlanProto } from '@cni/netlink';
import type { PluginRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError, invalidConfigError, type NetConf } from '@cni/spec';
import { macByPrecedence } from '@cni/link';

/** sriov-cni's data folder: state per attachment and the PCI allocations. */
export const DEFAULT_DATA_DIR = '/var/lib/cni/sriov';

const LOG_LEVELS = ['panic', 'error', 'warning', 'info', 'debug'] as const;

/** The sriov configuration, validated; every optional VF setting is undefined when not asked for. */
export interface SriovNetConf extends NetConf {
  /** The VF's PCI address (`0000:03:02.3`), from `deviceID` or `runtimeConfig.deviceID`. */
  deviceID: string;
  /** The port VLAN; `vlanQoS` and `vlanProto` are set (0, `802.1Q`) whenever `vlan` is. */
  vlan?: number;
  vlanQoS?: number;
  vlanProto?: VfVlanProto;
  /** The MAC, canonical; from `runtimeConfig.mac`, else CNI_ARGS `MAC`, else the `mac` key. */
  mac?: string;
  spoofchk?: boolean;
  trust?: boolean;
  linkState?: VfLinkState;
  minTxRate?: number;
  maxTxRate?: number;
  logLevel: (typeof LOG_LEVELS)[number];
  dataDir: string;
  /** The IPAM plugin, `''` without one. */
  ipamType: string;
}

const PCI = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

function optionalString(conf: Record<string, unknown>, key: string, path = key): string | undefined {
  const value = conf[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidConfigError(path, value, 'a string');
  return value;
}

function optionalInt(conf: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = conf[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidConfigError(key, value, `an integer in the range ${min}-${max}`);
  }
  return value;
}

function onOff(conf: Record<string, unknown>, key: string): boolean | undefined {
  const value = optionalString(conf, key);
  if (value === undefined) return undefined;
  if (value !== 'on' && value !== 'off') throw invalidConfigError(key, value, '"on" or "off"');
  return value === 'on';
}

function oneOf<T extends string>(conf: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(conf, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalidConfigError(key, value, `one of ${allowed.join(', ')}`);
  return value as T;
}

const invalid = (msg: string): CniError => new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, msg);

/**
 * Read and validate every key before anything is touched, as sriov-cni's `LoadConf` (with its
 * rules: `vlanQoS` and `vlanProto` need `vlan`, a non-zero QoS or 802.1ad needs a non-zero VLAN),
 * but with code 7 and messages naming the key and the value. Reads no sysfs: the VF is resolved
 * by `resolveVf` afterwards.
 */
export function loadConf(request: Pick<PluginRequest, 'conf' | 'args'>): SriovNetConf {
  const conf = request.conf as NetConf & Record<string, unknown>;
  const runtime = (conf.runtimeConfig ?? {}) as Record<string, unknown>;
  const deviceID = optionalString(runtime, 'deviceID', 'runtimeConfig.deviceID') ?? optionalString(conf, 'deviceID');
  if (deviceID === undefined) throw invalid('the VF\'s PCI address is required: set "deviceID" (or runtimeConfig.deviceID)');
  if (!PCI.test(deviceID)) throw invalidConfigError('deviceID', deviceID, 'a PCI address such as "0000:03:02.3"');

  const vlan = optionalInt(conf, 'vlan', 0, 4094);
  let vlanQoS = optionalInt(conf, 'vlanQoS', 0, 7);
  const protoText = optionalString(conf, 'vlanProto');
  let vlanProto: VfVlanProto | undefined;
  if (protoText !== undefined) {
    const lower = protoText.toLowerCase();
    if (lower !== '802.1q' && lower !== '802.1ad') throw invalidConfigError('vlanProto', protoText, '"802.1q" or "802.1ad"');
    vlanProto = lower === '802.1ad' ? '802.1ad' : '802.1Q';
  }
  if (vlan === undefined) {
    if (vlanQoS !== undefined) throw invalid(`vlanQoS ${vlanQoS} needs "vlan" to be set`);
    if (vlanProto !== undefined) throw invalid(`vlanProto "${protoText}" needs "vlan" to be set`);
  } else {
    vlanQoS ??= 0;
    vlanProto ??= '802.1Q';
    if (vlanQoS !== 0 && vlan === 0) throw invalid(`vlanQoS ${vlanQoS} needs a non-zero vlan, not 0`);
    if (vlanProto === '802.1ad' && vlan === 0) throw invalid(`vlanProto "${protoText}" needs a non-zero vlan, not 0`);
  }

  const minTxRate = optionalInt(conf, 'min_tx_rate', 0, 0xffff_ffff);
  const maxTxRate = optionalInt(conf, 'max_tx_rate', 0, 0xffff_ffff);
  if (minTxRate !== undefined && maxTxRate !== undefined && maxTxRate !== 0 && minTxRate > maxTxRate) {
    throw invalid(`invalid min_tx_rate ${minTxRate}, must not exceed max_tx_rate ${maxTxRate}`);
  }

  // runtimeConfig.mac wins over CNI_ARGS MAC, which wins over the key (sriov-cni's order).
  const mac = macByPrecedence({
    runtime: optionalString(runtime, 'mac', 'runtimeConfig.mac'),
    args: request.args['MAC'],
    key: optionalString(conf, 'mac'),
  });

  const spoofchk = onOff(conf, 'spoofchk');
  const trust = onOff(conf, 'trust');
  const linkState = oneOf<VfLinkState>(conf, 'link_state', ['auto', 'enable', 'disable']);
  const logLevel = oneOf(conf, 'logLevel', LOG_LEVELS) ?? 'info';
  optionalString(conf, 'logFile');
  const dataDir = optionalString(conf, 'dataDir') ?? DEFAULT_DATA_DIR;
  if (!dataDir.startsWith('/')) throw invalidConfigError('dataDir', dataDir, 'an absolute path');

  const ipam = conf.ipam;
  if (ipam !== undefined && (typeof ipam !== 'object' || ipam === null || typeof ipam.type !== 'string')) {
    throw invalidConfigError('ipam', ipam, 'an object with a "type"');
  }
  return {
    ...conf,
    // sriov-cni accepts the short form and adds the domain.
    deviceID: (deviceID.split(':').length === 2 ? `0000:${deviceID}` : deviceID).toLowerCase(),
    ...(vlan === undefined ? {} : { vlan, vlanQoS: vlanQoS ?? 0, vlanProto: vlanProto ?? '802.1Q' }),
    ...(mac === undefined ? {} : { mac }),
    ...(spoofchk === undefined ? {} : { spoofchk }),
    ...(trust === undefined ? {} : { trust }),
    ...(linkState === undefined ? {} : { linkState }),
    ...(minTxRate === undefined ? {} : { minTxRate }),
    ...(maxTxRate === undefined ? {} : { maxTxRate }),
    logLevel,
    dataDir,
    ipamType: ipam?.type ?? '',
  };
}
