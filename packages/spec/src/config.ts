// SPDX-License-Identifier: Apache-2.0
import type { Result } from './result/types.ts';

/** DNS settings of a configuration or a result (SPEC.md "Well-known structures"). */
export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/**
 * The `ipam` section of a plugin configuration: a `type` and keys the IPAM plugin defines. The
 * parsers give an `ipam` without `type` the empty type, as Go reads it (bridge's L2-only `"ipam": {}`).
 */
export interface IpamConfig {
  type: string;
  [key: string]: unknown;
}

/** A `runtimeConfig` entry for `portMappings` (CONVENTIONS.md). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIP?: string;
}

/** The `bandwidth` capability (CONVENTIONS.md): rates in bits per second, bursts in bits. */
export interface BandwidthEntry {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** A range of the `ipRanges` capability, as host-local's `ranges` entries. */
export interface IpRange {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** The well-known `runtimeConfig` keys (CONVENTIONS.md); others pass through. */
export interface RuntimeConfig {
  portMappings?: PortMapping[];
  ipRanges?: IpRange[][];
  bandwidth?: BandwidthEntry;
  dns?: { servers?: string[]; searches?: string[]; options?: string[] };
  ips?: string[];
  mac?: string;
  infinibandGUID?: string;
  deviceID?: string;
  aliases?: string[];
  cgroupPath?: string;
  'io.kubernetes.cri.pod-annotations'?: Record<string, string>;
  [key: string]: unknown;
}

/** An attachment a runtime still uses, as GC's `cni.dev/valid-attachments` lists them. */
export interface GcAttachment {
  containerID: string;
  ifname: string;
}

/**
 * One plugin's configuration as the runtime sends it on stdin (SPEC.md section 1 and 3):
 * the plugin object of a list with `cniVersion` and `name` injected. Keys a plugin does not
 * know are kept as they are.
 */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  capabilities?: Record<string, boolean>;
  runtimeConfig?: RuntimeConfig;
  args?: { cni?: Record<string, unknown>; [key: string]: unknown };
  ipMasq?: boolean;
  ipam?: IpamConfig;
  dns?: Dns;
  /** The previous plugin's result in a chain (raw: parse it with the conf's version). */
  prevResult?: Record<string, unknown>;
  /** GC only: the attachments the runtime still uses. */
  'cni.dev/valid-attachments'?: GcAttachment[];
  /** GC only: the older name of `cni.dev/valid-attachments` that libcni also sends. */
  'cni.dev/attachments'?: GcAttachment[];
  [key: string]: unknown;
}

/**
 * A plugin object inside a configuration list, before the runtime injects `cniVersion` and `name`
 * (SPEC.md section 1, "Plugin configuration objects"). Keys a plugin defines pass through.
 */
export interface PluginConf {
  /** The plugin's executable name in `CNI_PATH`; never a path. */
  type: string;
  /** Capabilities the plugin wants from the runtime, as `runtimeConfig` entries. */
  capabilities?: Record<string, boolean>;
  /** Reserved: the runtime puts the capabilities' values here. */
  runtimeConfig?: RuntimeConfig;
  /** Reserved: arguments the runtime passes (`args.cni` by convention). */
  args?: { cni?: Record<string, unknown>; [key: string]: unknown };
  ipMasq?: boolean;
  /** Set when `ipam` is present; an `ipam` without `type` is read as `type: ""` (no IPAM). */
  ipam?: IpamConfig;
  dns?: Dns;
  [key: string]: unknown;
}

/** A network configuration list (SPEC.md section 1), with every field of spec 1.1.0. */
export interface NetConfList {
  /** After `parseNetConfList`, the negotiated version (see `negotiateConfigVersion`). */
  cniVersion: string;
  /** 1.1.0: the versions the list is valid for; the runtime picks the highest it implements. */
  cniVersions?: string[];
  /** The network name: `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`, unique per runtime. */
  name: string;
  /** 0.4.0: skip CHECK for this network. */
  disableCheck?: boolean;
  /** 1.1.0: skip GC for this network. */
  disableGC?: boolean;
  /** 1.1.0 (libcni 1.3): do not load `<confdir>/<name>/*.conf` plugins. */
  loadOnlyInlinedPlugins?: boolean;
  plugins: PluginConf[];
  [key: string]: unknown;
}

/**
 * A {@link NetConf} whose `prevResult` has been parsed into a result of the conf's version.
 * (A key-remapping mapped type, not `Omit`: `Omit` of a type with an index signature would turn
 * every known key into `unknown`.)
 */
export type NetConfWithResult<C extends NetConf = NetConf> = {
  [K in keyof C as K extends 'prevResult' ? never : K]: C[K];
} & { prevResult?: Result };
