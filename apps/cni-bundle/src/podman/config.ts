// SPDX-License-Identifier: Apache-2.0
import { join } from 'node:path';

/** Where podman keeps its state, all of it under one folder the caller owns. */
export interface PodmanDirs {
  /** Image and container storage (`--root`, storage.conf's graphroot). */
  readonly root: string;
  /** Runtime state of the storage (`--runroot`, storage.conf's runroot). */
  readonly runroot: string;
  /** libpod's own temporary state (containers.conf's tmp_dir): exit files, the alive lock. */
  readonly tmp: string;
  /** The folder of CNI network configurations (network_config_dir). */
  readonly networks: string;
  /** The events log (events_logger = "file"). */
  readonly eventsLog: string;
}

/** The folders of {@link PodmanDirs}, laid out under `base`. */
export function podmanDirs(base: string): PodmanDirs {
  return {
    root: join(base, 'storage'),
    runroot: join(base, 'runroot'),
    tmp: join(base, 'libpod-tmp'),
    networks: join(base, 'net.d'),
    eventsLog: join(base, 'events.log'),
  };
}

/** Container rlimits podman may set on this machine. */
export interface ContainerUlimits {
  readonly nofile: number;
  readonly nproc: number;
}

/** What {@link containersConf} writes. */
export interface ContainersConfOptions {
  readonly dirs: PodmanDirs;
  /** The folders searched for plugin executables (cni_plugin_dirs; CNI_PATH of every plugin run). */
  readonly pluginDirs: readonly string[];
  readonly ulimits: ContainerUlimits;
}

/** Hard limits above which runc's setrlimit fails in a container (EPERM): the machine's, and podman's. */
export function machineUlimits(procLimits: string, pidMax: number): ContainerUlimits {
  const hard = (label: string): number => {
    const line = procLimits.split('\n').find((l) => l.startsWith(label));
    const value = line?.slice(label.length).trim().split(/\s+/)[1];
    if (value === undefined) throw new Error(`no "${label}" line in /proc/self/limits`);
    return value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value);
  };
  // conmon, hence runc, runs with its hard RLIMIT_NPROC lowered to kernel.pid_max (measured here:
  // 32768 against the machine's 96365), so asking for more fails in runc's setrlimit with EPERM.
  return { nofile: hard('Max open files'), nproc: Math.min(hard('Max processes'), pidMax) };
}

const toml = (value: string): string => JSON.stringify(value);
const tomlList = (values: readonly string[]): string => `[${values.map(toml).join(', ')}]`;

/**
 * A containers.conf that runs podman's CNI backend on the given plugin folders, with runc and the
 * cgroupfs manager, rlimits the machine allows, and every file podman keeps under {@link PodmanDirs}.
 */
export function containersConf(options: ContainersConfOptions): string {
  const { dirs, ulimits } = options;
  return [
    '[containers]',
    `default_ulimits = ${tomlList([`nofile=${ulimits.nofile}:${ulimits.nofile}`, `nproc=${ulimits.nproc}:${ulimits.nproc}`])}`,
    '',
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = ${tomlList(options.pluginDirs)}`,
    `network_config_dir = ${toml(dirs.networks)}`,
    'default_network = "podman"',
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${toml(dirs.eventsLog)}`,
    `tmp_dir = ${toml(dirs.tmp)}`,
    `static_dir = ${toml(join(dirs.root, 'libpod'))}`,
    `volume_path = ${toml(join(dirs.root, 'volumes'))}`,
    `image_copy_tmp_dir = ${toml(dirs.tmp)}`,
    '',
  ].join('\n');
}

/** A storage.conf keeping images and containers under {@link PodmanDirs}. */
export function storageConf(dirs: PodmanDirs, driver: 'overlay' | 'vfs'): string {
  return ['[storage]', `driver = ${toml(driver)}`, `graphroot = ${toml(dirs.root)}`, `runroot = ${toml(dirs.runroot)}`, ''].join('\n');
}

/** What {@link defaultNetwork} writes. */
export interface DefaultNetworkOptions {
  /** host-local's leases (its `dataDir`; upstream's default is /var/lib/cni/networks). */
  readonly ipamDataDir: string;
  /** tuning's backups (its `dataDir`; upstream's default is /run/cni/tuning). */
  readonly tuningDataDir: string;
  /** The bundle's debug log, set on every plugin of the chain (the `logFile` key). */
  readonly logFile?: string;
  readonly subnet?: string;
  readonly gateway?: string;
}

/**
 * The conflist of podman's default network "podman", as podman 4 writes it for the CNI backend
 * (bridge `cni-podman0` with host-local, then portmap, firewall and tuning), with the folders our
 * plugins keep state in set by the configuration.
 */
export function defaultNetwork(options: DefaultNetworkOptions): Record<string, unknown> {
  const log = options.logFile === undefined ? {} : { logFile: options.logFile };
  const subnet = options.subnet ?? '10.88.0.0/16';
  const gateway = options.gateway ?? '10.88.0.1';
  return {
    cniVersion: '0.4.0',
    name: 'podman',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-podman0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          routes: [{ dst: '0.0.0.0/0' }],
          ranges: [[{ subnet, gateway }]],
          dataDir: options.ipamDataDir,
        },
        ...log,
      },
      { type: 'portmap', capabilities: { portMappings: true }, ...log },
      { type: 'firewall', ...log },
      { type: 'tuning', dataDir: options.tuningDataDir, ...log },
    ],
  };
}
