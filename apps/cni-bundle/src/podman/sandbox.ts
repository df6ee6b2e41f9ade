// SPDX-License-Identifier: Apache-2.0
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containersConf, defaultNetwork, machineUlimits, podmanDirs, storageConf, type PodmanDirs } from './config.ts';

/** The PATH podman, conmon and the plugins run with: what a runtime on a Debian host has. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a finished command left. */
export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an argument array and collects its output; never throws on a bad status. */
export function runCommand(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs a program, returning its stdout; throws with its stderr when it fails. */
export function mustRun(file: string, args: readonly string[]): string {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`failed to run "${[file, ...args].join(' ')}": ${result.stderr || result.error?.message}`);
  return result.stdout;
}

/**
 * Starts the holder of a confined runtime: `sh -c script holder dir` in the network namespace
 * `hostNs` and a private mount namespace, resolved once the script prints `ready`. The script binds
 * the sandbox's folders over /run, /var/lib and the like, then sleeps; the runtime is started inside
 * it with nsenter. PDEATHSIG ends it if the test process dies.
 */
export async function startMountHolder(hostNs: string, dir: string, script: string): Promise<ChildProcess> {
  const holder = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', 'nsenter', `--net=/run/netns/${hostNs}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'holder', dir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: SANDBOX_PATH } },
  );
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    holder.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    holder.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    holder.on('error', reject);
    holder.on('exit', (code) => reject(new Error(`the sandbox's mount namespace holder exited (${code}): ${stderr}`)));
  });
  return holder;
}

/** True when every program is found in PATH. */
export function havePrograms(...names: string[]): boolean {
  return names.every((name) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name]).status === 0);
}

/** Options of {@link PodmanSandbox.start}. */
export interface SandboxOptions {
  /** The folder of plugin executables podman runs (cni_plugin_dirs, hence CNI_PATH). */
  readonly pluginDir: string;
  /** Names the namespaces, the cgroup parent and the temp folder apart from other runs. */
  readonly tag: string;
}

/**
 * Podman confined to a test: it runs in a network namespace the sandbox made (the "host" of its
 * bridge, iptables rules and container namespaces), in a private mount namespace where /run,
 * /var/lib and /dev/shm are folders of the sandbox (podman and its helpers write there whatever the
 * configuration cannot move: runc's state in /run/runc, container namespaces in /run/netns, libcni's
 * result cache in /var/lib/cni, the image blob cache in /var/lib/containers, the SHM lock file), and
 * with containers in a cgroup parent of its own. {@link close} undoes all of it, also after a failure.
 */
export class PodmanSandbox {
  /** The sandbox's temp folder; everything podman keeps is below it. */
  readonly dir: string;
  readonly dirs: PodmanDirs;
  /** The host namespace podman runs in, under /run/netns. */
  readonly hostNs: string;
  /** A client namespace with a veth to the host one: `CLIENT_ADDRESS` there, `HOST_ADDRESS` on the host side. */
  readonly clientNs: string;
  /** The cgroup parent of the containers (`--cgroup-parent`). */
  readonly cgroupParent: string;
  /** The conflist of the default network, as written. */
  readonly network: Record<string, unknown>;
  /** The plugins' debug log (every plugin of the chain appends to it). */
  readonly logFile: string;
  /** host-local's dataDir. */
  readonly ipamDir: string;
  /** tuning's dataDir. */
  readonly tuningDir: string;
  /** The storage driver in use: overlay, or vfs where the temp folder is itself on overlayfs. */
  readonly driver: 'overlay' | 'vfs';
  readonly #pluginDir: string;
  #holder: ChildProcess | undefined;
  #env: NodeJS.ProcessEnv;
  #closed = false;

  static readonly HOST_ADDRESS = '192.0.2.1';
  static readonly CLIENT_ADDRESS = '192.0.2.2';

  private constructor(options: SandboxOptions) {
    this.#pluginDir = options.pluginDir;
    this.dir = mkdtempSync(join(tmpdir(), `cni-podman-${options.tag}-`));
    this.dirs = podmanDirs(this.dir);
    this.hostNs = `cni-podman-h-${options.tag}`;
    this.clientNs = `cni-podman-c-${options.tag}`;
    this.cgroupParent = `/cni-podman-${options.tag}`;
    this.logFile = join(this.dir, 'cni.log');
    this.ipamDir = join(this.dir, 'host-local');
    this.tuningDir = join(this.dir, 'tuning');
    this.driver = mustRun('stat', ['-f', '-c', '%T', this.dir]).trim() === 'overlayfs' ? 'vfs' : 'overlay';
    this.network = defaultNetwork({ ipamDataDir: this.ipamDir, tuningDataDir: this.tuningDir, logFile: this.logFile });
    const conf = join(this.dir, 'containers.conf');
    this.#env = {
      PATH: SANDBOX_PATH,
      HOME: this.dir,
      TMPDIR: this.dirs.tmp,
      CONTAINERS_CONF: conf,
      CONTAINERS_STORAGE_CONF: join(this.dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: join(this.dir, 'registries.conf'),
    };
  }

  /** Makes the folders, files and namespaces, and starts the process that holds the mount namespace. */
  static async start(options: SandboxOptions): Promise<PodmanSandbox> {
    const sandbox = new PodmanSandbox(options);
    try {
      await sandbox.#setUp();
    } catch (error) {
      await sandbox.close();
      throw error;
    }
    return sandbox;
  }

  async #setUp(): Promise<void> {
    const { dir, dirs } = this;
    for (const folder of [dirs.tmp, dirs.networks, join(dir, 'run'), join(dir, 'var-lib'), join(dir, 'shm')]) mkdirSync(folder, { recursive: true });
    const ulimits = machineUlimits(readFileSync('/proc/self/limits', 'utf8'), Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')));
    writeFileSync(
      this.#env['CONTAINERS_CONF']!,
      containersConf({ dirs, pluginDirs: [this.#pluginDir], ulimits }),
    );
    writeFileSync(this.#env['CONTAINERS_STORAGE_CONF']!, storageConf(dirs, this.driver));
    writeFileSync(this.#env['CONTAINERS_REGISTRIES_CONF']!, 'unqualified-search-registries = []\n');
    writeFileSync(join(dirs.networks, '87-podman.conflist'), `${JSON.stringify(this.network, null, 2)}\n`);

    mustRun('ip', ['netns', 'add', this.hostNs]);
    mustRun('ip', ['netns', 'add', this.clientNs]);
    mustRun('ip', ['-n', this.hostNs, 'link', 'set', 'lo', 'up']);
    mustRun('ip', ['-n', this.clientNs, 'link', 'set', 'lo', 'up']);
    mustRun('ip', ['-n', this.hostNs, 'link', 'add', 'client0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.clientNs]);
    mustRun('ip', ['-n', this.hostNs, 'addr', 'add', `${PodmanSandbox.HOST_ADDRESS}/24`, 'dev', 'client0']);
    mustRun('ip', ['-n', this.clientNs, 'addr', 'add', `${PodmanSandbox.CLIENT_ADDRESS}/24`, 'dev', 'eth0']);
    mustRun('ip', ['-n', this.hostNs, 'link', 'set', 'client0', 'up']);
    mustRun('ip', ['-n', this.clientNs, 'link', 'set', 'eth0', 'up']);

    // The holder: a process in the host namespace and a private mount namespace whose /run, /var/lib
    // and /dev/shm are the sandbox's folders. Every podman run joins it with nsenter, so the container
    // namespaces podman bind-mounts under /run/netns stay visible from one run to the next, and die
    // with it. `ip netns exec` would not do: it makes a new mount namespace per run and remounts /sys
    // without the cgroup hierarchies runc needs. PDEATHSIG ends it if the test process dies.
    const script = 'mount --bind "$1/run" /run && mount --bind "$1/var-lib" /var/lib && mount --bind "$1/shm" /dev/shm && echo ready && exec sleep infinity';
    this.#holder = await startMountHolder(this.hostNs, dir, script);
  }

  /** The pid of the process holding the sandbox's mount namespace. */
  get holderPid(): number | undefined {
    return this.#holder?.exitCode === null ? this.#holder.pid : undefined;
  }

  /** Runs `podman <args>` in the sandbox, with the sandbox's configuration and storage. */
  podman(args: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
    const pid = this.holderPid;
    if (pid === undefined) throw new Error(`the sandbox "${this.dir}" is closed`);
    const { root, runroot } = this.dirs;
    return runCommand(
      'nsenter',
      ['-t', String(pid), '-m', '-n', `--wd=${this.dir}`, 'podman', '--root', root, '--runroot', runroot, ...args],
      { env: this.#env, timeoutMs },
    );
  }

  /** Like {@link podman}, throwing with podman's stderr when it fails. */
  async mustPodman(args: readonly string[], timeoutMs?: number): Promise<string> {
    const result = await this.podman(args, timeoutMs);
    if (result.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  }

  /**
   * Writes a rootfs holding Debian's static busybox and `www/index.html` with `body`, tars it and
   * imports it as `name`: an image made without a registry.
   */
  async importBusybox(name: string, body: string): Promise<void> {
    const rootfs = join(this.dir, 'rootfs');
    for (const folder of ['bin', 'www', 'tmp', 'proc', 'sys', 'dev', 'etc']) mkdirSync(join(rootfs, folder), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    writeFileSync(join(rootfs, 'www', 'index.html'), body);
    const tarball = join(this.dir, 'rootfs.tar');
    mustRun('tar', ['-C', rootfs, '-cf', tarball, '.']);
    await this.mustPodman(['import', tarball, name]);
  }

  /** Pids in the sandbox's cgroup parent (containers and their conmon), any hierarchy. */
  cgroupPids(): number[] {
    const pids = new Set<number>();
    for (const root of cgroupHierarchies()) {
      const top = join(root, this.cgroupParent);
      for (const folder of walkFolders(top)) {
        let procs: string;
        try {
          procs = readFileSync(join(folder, 'cgroup.procs'), 'utf8');
        } catch {
          continue; // removed meanwhile
        }
        for (const line of procs.split('\n')) if (line !== '') pids.add(Number(line));
      }
    }
    return [...pids];
  }

  /** Pids whose command line names the sandbox's folder, the holder apart (conmon, podman, cleanup runs). */
  sandboxPids(): number[] {
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === this.holderPid) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(join('/proc', entry, 'cmdline'), 'utf8');
      } catch {
        continue;
      }
      if (cmdline.includes(this.dir)) found.push(Number(entry));
    }
    return found;
  }

  /** The cgroup folders of the sandbox's cgroup parent that still exist. */
  cgroupFolders(): string[] {
    return cgroupHierarchies().flatMap((root) => walkFolders(join(root, this.cgroupParent)));
  }

  /**
   * Removes every container, stops what podman left running (by pid: the processes of the
   * sandbox's cgroups and those naming its folder), ends the holder (its mount namespace and the
   * container namespaces mounted in it go with it), deletes both network namespaces, the cgroups and
   * the temp folder. Safe to call twice and after a failed start.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.holderPid !== undefined) await this.podman(['rm', '--all', '--force', '--time', '0'], 30_000).catch(() => undefined);
    for (const pid of new Set([...this.cgroupPids(), ...this.sandboxPids()])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    const holder = this.#holder;
    if (holder !== undefined && holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }
    for (const ns of [this.clientNs, this.hostNs]) if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'delete', ns]);
    // A cgroup folder goes only once its processes are reaped: retry for a moment.
    for (let attempt = 0; attempt < 50 && this.cgroupFolders().length > 0; attempt++) {
      for (const folder of this.cgroupFolders().reverse()) {
        try {
          rmdirSync(folder);
        } catch {
          // Still busy, or gone: the next round sees.
        }
      }
      if (this.cgroupFolders().length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The mounted cgroup hierarchies: the v1 controllers and the unified one of a hybrid layout, or cgroup2 alone. */
function cgroupHierarchies(): string[] {
  const roots: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mountPart, fsPart] = line.split(' - ');
    if (fsPart === undefined) continue;
    const fsType = fsPart.split(' ')[0];
    if (fsType === 'cgroup' || fsType === 'cgroup2') roots.push(mountPart!.split(' ')[4]!);
  }
  return roots;
}

/** A folder and every folder below it, parents first; none when it does not exist. */
function walkFolders(top: string): string[] {
  if (!statSync(top, { throwIfNoEntry: false })?.isDirectory()) return [];
  const found = [top];
  for (const entry of readdirSync(top, { withFileTypes: true })) if (entry.isDirectory()) found.push(...walkFolders(join(top, entry.name)));
  return found;
}
