// SPDX-License-Identifier: Apache-2.0
import type { BondMode } from '@cni/netlink';
import { CNI_ERROR_CODES, CniError, decodeConfig, invalidConfigError, type NetConf } from '@cni/spec';
import { XMIT_HASH_POLICIES } from './bond-options.ts';

/** The bonding modes, as the kernel and bond-cni name them. */
export const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const satisfies readonly BondMode[];

/** The bond configuration, validated, with bond-cni's defaults applied. */
export interface BondNetConf extends NetConf {
  /** The bonding mode (required). */
  mode: BondMode;
  /** MII link monitoring interval in ms; bond-cni takes it as a string of digits, a number works too. Default 100. */
  miimon: number;
  /** fail_over_mac: 0 none, 1 active, 2 follow. Default 0. */
  failOverMac: 0 | 1 | 2;
  /** The links are in the container already (true), or are taken from the host (false, the default) and given back on DEL. */
  linksInContainer: boolean;
  /** The bond's MTU, which its links take: [68, every link's MTU]. Default 1500. */
  mtu: number;
  /** The names of the links to bond, at least two, each once. */
  links: string[];
  /** The transmit hash policy (`layer2`, `layer3+4`, ...); the kernel's default when absent. */
  xmitHashPolicy: (typeof XMIT_HASH_POLICIES)[number] | undefined;
  /** all_slaves_active, 0 or 1; the kernel's default when absent. */
  allSlavesActive: number | undefined;
  /** tlb_dynamic_lb, 0 or 1, balance-tlb and balance-alb only; the kernel's default when absent. */
  tlbDynamicLb: number | undefined;
  /** The IPAM plugin to delegate to; `''` for an L2-only bond. */
  ipamType: string;
}

function readMiimon(conf: NetConf): number {
  const value = conf['miimon'];
  if (value === undefined || value === null || value === '') return 100;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 0x7fff_ffff) {
    throw invalidConfigError('miimon', value, 'a whole number of milliseconds (a string of digits, as bond-cni takes it, or a number)');
  }
  return number;
}

function readLinks(conf: NetConf): string[] {
  const value = conf['links'];
  if (!Array.isArray(value)) throw invalidConfigError('links', value ?? null, 'a list of at least two {"name": "<link>"} objects');
  const names = value.map((entry, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) > 15) throw invalidConfigError(`links[${index}].name`, name ?? null, 'a link name');
    return name;
  });
  if (names.length < 2) throw invalidConfigError('links', value, 'a list of at least two {"name": "<link>"} objects');
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) throw invalidConfigError('links', value, `a list of distinct links ("${twice}" is named twice)`);
  return names;
}

/** Read and validate the configuration as bond-cni's `loadConf` and validation do, with errors naming key and value. */
export function loadConf(conf: NetConf): BondNetConf {
  const mode = conf['mode'];
  if (typeof mode !== 'string' || !(BOND_MODES as readonly string[]).includes(mode)) {
    throw invalidConfigError('mode', mode ?? null, `one of ${BOND_MODES.join(', ')}`);
  }
  const keys = decodeConfig(conf, (r) => {
    const xmitHashPolicy = r.optString('xmitHashPolicy');
    if (xmitHashPolicy !== undefined && !(XMIT_HASH_POLICIES as readonly string[]).includes(xmitHashPolicy)) {
      r.fail('xmitHashPolicy', xmitHashPolicy, `one of ${XMIT_HASH_POLICIES.join(', ')}`);
    }
    return {
      xmitHashPolicy: xmitHashPolicy as BondNetConf['xmitHashPolicy'],
      allSlavesActive: r.optInt('allSlavesActive', { min: 0, max: 1 }),
      tlbDynamicLb: r.optInt('tlbDynamicLb', { min: 0, max: 1 }),
      failOverMac: r.int('failOverMac', { min: 0, max: 2 }, 0) as 0 | 1 | 2,
      linksInContainer: r.bool('linksInContainer'),
      mtu: r.int('mtu', { min: 68, max: 65535 }, 1500),
      ipamType: r.optObject('ipam')?.optString('type') ?? '',
    };
  });
  if (keys.ipamType === 'bond') throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, 'invalid ipam type "bond": bond is not an IPAM plugin');
  if (keys.tlbDynamicLb !== undefined && mode !== 'balance-tlb' && mode !== 'balance-alb') {
    throw invalidConfigError('tlbDynamicLb', keys.tlbDynamicLb, `set only in balance-tlb or balance-alb mode (mode is ${mode})`);
  }
  return { ...conf, ...keys, mode: mode as BondMode, miimon: readMiimon(conf), links: readLinks(conf) };
}
