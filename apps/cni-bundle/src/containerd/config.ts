// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where containerd keeps its state, all of it under one folder the caller owns. */
export interface ContainerdDirs {
  /** containerd's `root` (content store, snapshots, metadata). */
  readonly root: string;
  /** containerd's `state` (task bundles). */
  readonly state: string;
  /** The gRPC socket (CRI and containerd's own API). */
  readonly socket: string;
  /** The CRI plugin's CNI conf_dir. */
  readonly netd: string;
  /** runc's state root (`runtimes.runc.options.Root`). */
  readonly runcRoot: string;
}

/** The folders of {@link ContainerdDirs}, laid out under `base`. */
export function containerdDirs(base: string): ContainerdDirs {
  return {
    root: join(base, 'root'),
    state: join(base, 'state'),
    socket: join(base, 'containerd.sock'),
    netd: join(base, 'net.d'),
    runcRoot: join(base, 'runc'),
  };
}

/** TOML's basic string. */
const str = (value: string) => JSON.stringify(value);

/**
 * containerd's config.toml (version 2) for a confined CRI: its own folders and socket, the
 * native snapshotter (works on any file system, and the pause image is one small layer), runc with
 * its state in our folder and cgroupfs, the sandbox image imported offline, and CNI from `binDir`
 * with the one configuration of `dirs.netd`. Plugins that need what a test machine may lack
 * (other snapshotters, the opt and tracing plugins) are disabled.
 */
export function containerdConfig(options: { dirs: ContainerdDirs; binDir: string; sandboxImage: string }): string {
  const { dirs } = options;
  return `version = 2
root = ${str(dirs.root)}
state = ${str(dirs.state)}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${str(dirs.socket)}

[ttrpc]
  address = ${str(`${dirs.socket}.ttrpc`)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${str(options.sandboxImage)}
  disable_apparmor = true
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = ${str(dirs.runcRoot)}
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${str(options.binDir)}
    conf_dir = ${str(dirs.netd)}
    max_conf_num = 1
`;
}

/** Go's name of this machine's architecture, as image configs and containerd's platform matcher use it. */
export function goArch(arch = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

function mustRun(file: string, args: readonly string[]): void {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`failed to run "${[file, ...args].join(' ')}": ${result.stderr || result.error?.message}`);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * A pause image made offline: one layer holding Debian's static busybox, whose `sleep` is the
 * sandbox's process (a sandbox is killed with SIGKILL, so it needs no signal handling), written as
 * a docker-archive tar (`manifest.json`, the config and the layer) that `ctr images import` reads.
 * Returns the tar's path.
 */
export function writePauseImage(work: string, name: string, busybox = '/bin/busybox'): string {
  const rootfs = join(work, 'pause-rootfs');
  const archive = join(work, 'pause-archive');
  for (const folder of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(rootfs, folder), { recursive: true });
  mkdirSync(archive, { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  const layer = join(archive, 'layer.tar');
  mustRun('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layer, '.']);
  const diffId = `sha256:${sha256(readFileSync(layer))}`;
  const config = JSON.stringify({
    architecture: goArch(),
    os: 'linux',
    config: { Entrypoint: ['/bin/busybox', 'sleep', '2147483647'], WorkingDir: '/', Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'cni-bundle e2e: busybox-static as a pause image' }],
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(archive, configName), config);
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [name], Layers: ['layer.tar'] }]));
  const tarball = join(work, 'pause.tar');
  mustRun('tar', ['-C', archive, '-cf', tarball, 'manifest.json', configName, 'layer.tar']);
  return tarball;
}

/**
 * A NAD manifest in the form the Multus docs print: `spec.config` a multi-line single-quoted JSON
 * string whose closing `}'` starts its line (less indented than `config:`), as users copy it.
 */
export function nadYaml(name: string, namespace: string, config: Record<string, unknown>): string {
  const body = JSON.stringify(config, null, 2).split('\n').slice(1, -1).map((line) => `    ${line}`).join('\n');
  return `apiVersion: "k8s.cni.cncf.io/v1"\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  config: '{\n${body}\n}'\n`;
}
