// SPDX-License-Identifier: Apache-2.0
import { confListFromBytes, type NetworkConfigList } from '@cni/libcni';
import type { NetConf } from '@cni/spec';
import { errorText, MultinetError } from './errors.ts';

/** The configuration of multinet, read from its stdin with defaults applied. */
export interface MultinetConf {
  /** The network name the runtime knows multinet by. */
  name: string;
  cniVersion: string;
  /** Kubeconfig for pods, NADs and the status annotation; without it, no API is used. */
  kubeconfig: string | undefined;
  /**
   * The cluster default network: an absolute file or folder, a NAD name (in
   * {@link MultinetConf.multinetNamespace}) or the name of a configuration in `confDir`.
   */
  clusterNetwork: string | undefined;
  /** Networks every pod outside `systemNamespaces` also gets, resolved as `clusterNetwork`. */
  defaultNetworks: string[];
  /** Pods here do not get `defaultNetworks`. Default `["kube-system"]`. */
  systemNamespaces: string[];
  /** Where the NADs of `clusterNetwork`, `defaultNetworks` and the default-network annotation live. Default `kube-system`. */
  multinetNamespace: string;
  /** A pod may select only NADs of its own namespace or of `globalNamespaces`. */
  namespaceIsolation: boolean;
  /** Namespaces whose NADs every pod may select under isolation. Default `["default"]`. */
  globalNamespaces: string[];
  /** On-disk configurations for NADs without `spec.config`, and networks by name. */
  confDir: string;
  /** multinet's own cache (`attachments/`) and libcni's result cache (`results/`). */
  cniDir: string;
  /** Put before CNI_PATH when looking for delegates. */
  binDir: string;
  /** A folder of NAD manifests, for runtimes without Kubernetes. */
  nadDir: string | undefined;
  /** A file whose existence says the default network is ready. */
  readinessindicatorfile: string | undefined;
  /**
   * Which of multinet's own log lines are written, as Multus' levels: `panic` (none), `error`
   * (failures), `verbose` (also each attachment added or deleted), `debug` (also the plan and
   * cache decisions). Unset: `debug`, so a log file alone still logs everything.
   */
  logLevel: LogLevel;
  logFile: string | undefined;
  /** Inline networks, used when `clusterNetwork` is not set: the first is the default network. */
  delegates: NetworkConfigList[];
  /** What the runtime sent in `runtimeConfig`: goes to the default network only (spec §7.5). */
  runtimeConfig: Record<string, unknown>;
}

/** Multus' log levels, least verbose first. */
export const LOG_LEVELS = ['panic', 'error', 'verbose', 'debug'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Defaults of the paths, as the install manifests lay them out. */
export const DEFAULTS = {
  confDir: '/etc/cni/multinet/net.d',
  cniDir: '/var/lib/cni/multinet',
  binDir: '/opt/cni/bin',
  multinetNamespace: 'kube-system',
  systemNamespaces: ['kube-system'],
  globalNamespaces: ['default'],
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Read multinet's configuration from the parsed stdin. Keys of the wrong type fail with code
 * 7 naming the key; `globalNamespaces` may be Multus's comma-separated string or a list.
 */
export function parseMultinetConf(conf: NetConf): MultinetConf {
  const raw = conf as unknown as Record<string, unknown>;
  const fail = (key: string, why: string) => new MultinetError(`invalid multinet configuration: "${key}" ${why}`);
  const str = (key: string): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw fail(key, 'must be a string');
    return value;
  };
  const list = (key: string, fallback: readonly string[]): string[] => {
    const value = raw[key];
    if (value === undefined || value === null) return [...fallback];
    if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw fail(key, 'must be a list of strings');
    return [...value] as string[];
  };
  const bool = (key: string): boolean => {
    const value = raw[key];
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') throw fail(key, 'must be a boolean');
    return value;
  };
  const logLevel = (value: string | undefined): LogLevel => {
    if (value === undefined) return 'debug';
    const level = value.toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw fail('logLevel', `is ${JSON.stringify(value)}, not one of ${LOG_LEVELS.join(', ')}`);
    return level as LogLevel;
  };
  const delegatesValue = raw.delegates;
  let delegates: NetworkConfigList[] = [];
  if (delegatesValue !== undefined && delegatesValue !== null) {
    if (!Array.isArray(delegatesValue)) throw fail('delegates', 'must be a list of configurations');
    delegates = delegatesValue.map((delegate, i) => {
      if (!isRecord(delegate)) throw fail(`delegates[${i}]`, 'must be an object');
      const own = delegate.cniVersion;
      if (own !== undefined && own !== null && typeof own !== 'string') throw fail(`delegates[${i}].cniVersion`, `must be a string, not ${JSON.stringify(own)}`);
      const version = typeof own === 'string' && own !== '' ? own : conf.cniVersion;
      const asList = Array.isArray(delegate.plugins)
        ? { ...delegate, cniVersion: version }
        : { cniVersion: version, name: delegate.name, plugins: [Object.fromEntries(Object.entries(delegate).filter(([k]) => k !== 'name' && k !== 'cniVersion'))] };
      try {
        return confListFromBytes(JSON.stringify(asList));
      } catch (error) {
        throw fail(`delegates[${i}]`, `is invalid: ${errorText(error)}`);
      }
    });
  }
  const parsed: MultinetConf = {
    name: conf.name ?? '',
    cniVersion: conf.cniVersion ?? '',
    kubeconfig: str('kubeconfig'),
    clusterNetwork: str('clusterNetwork'),
    defaultNetworks: list('defaultNetworks', []),
    systemNamespaces: list('systemNamespaces', DEFAULTS.systemNamespaces),
    multinetNamespace: str('multinetNamespace') ?? DEFAULTS.multinetNamespace,
    namespaceIsolation: bool('namespaceIsolation'),
    globalNamespaces: list('globalNamespaces', DEFAULTS.globalNamespaces),
    confDir: str('confDir') ?? DEFAULTS.confDir,
    cniDir: str('cniDir') ?? DEFAULTS.cniDir,
    binDir: str('binDir') ?? DEFAULTS.binDir,
    nadDir: str('nadDir'),
    readinessindicatorfile: str('readinessindicatorfile'),
    logLevel: logLevel(str('logLevel')),
    logFile: str('logFile'),
    delegates,
    runtimeConfig: isRecord(raw.runtimeConfig) ? { ...raw.runtimeConfig } : {},
  };
  if (parsed.clusterNetwork === undefined && parsed.delegates.length === 0) {
    throw new MultinetError('invalid multinet configuration: one of "clusterNetwork" or "delegates" is required');
  }
  return parsed;
}
