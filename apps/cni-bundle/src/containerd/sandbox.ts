// SPDX-License-Identifier: Apache-2.0
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustRun, runCommand, SANDBOX_PATH, startMountHolder, type CommandResult } from '../podman/sandbox.ts';
import { containerdConfig, containerdDirs, writePauseImage, type ContainerdDirs } from './config.ts';
import { CriClient } from './cri-client.ts';

/** Options of {@link ContainerdSandbox.start}. */
export interface ContainerdSandboxOptions {
  /** The folder of plugin executables the CRI plugin runs (its `bin_dir`, hence CNI_PATH). */
  readonly binDir: string;
  /** Names the namespaces, the cgroup parent and the temp folder apart from other runs. */
  readonly tag: string;
  /** The CNI configuration list the CRI plugin uses, written to its conf_dir before it starts. */
  readonly conflist: (dir: string) => Record<string, unknown>;
  /** The path of cri.proto, when this file runs from elsewhere than its source folder. */
  readonly proto?: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * containerd 1.6 and its CRI plugin confined to a test, as kubelet would drive it: it runs in a
 * network namespace the sandbox made (the "node": bridges, macvlan masters and iptables rules go
 * there), in a private mount namespace whose /run and /var/lib are folders of the sandbox (the
 * CRI plugin mounts pod network namespaces under /var/run/netns, the shims keep sockets under
 * /run/containerd, go-cni its cache under /var/lib/cni), with its root, state, socket and runc
 * state in the sandbox's folder and pods in a cgroup parent of its own. The pause image is built
 * offline from busybox and imported with `ctr`. {@link close} undoes all of it, also after a
 * failure.
 */
export class ContainerdSandbox {
  /** The sandbox's temp folder; everything containerd keeps is below it. */
  readonly dir: string;
  readonly dirs: ContainerdDirs;
  /** The node namespace containerd runs in, under /run/netns. */
  readonly hostNs: string;
  /** A LAN peer's namespace: a veth `lan0` in the node namespace (a macvlan master) to its `eth0`, {@link LAN_PEER}/24. */
  readonly lanNs: string;
  /** The cgroup parent of the pods (`linux.cgroup_parent`). */
  readonly cgroupParent: string;
  /** The sandbox image, imported offline. */
  readonly pauseImage: string;
  /** The CRI client on the sandbox's socket (made by {@link start}). */
  cri!: CriClient;
  readonly #options: ContainerdSandboxOptions;
  #holder: ChildProcess | undefined;
  #containerd: ChildProcess | undefined;
  #closed = false;

  static readonly LAN_PEER = '10.40.0.254';

  private constructor(options: ContainerdSandboxOptions) {
    this.#options = options;
    this.dir = mkdtempSync(join(tmpdir(), `cni-containerd-${options.tag}-`));
    this.dirs = containerdDirs(this.dir);
    this.hostNs = `cni-ctrd-h-${options.tag}`;
    this.lanNs = `cni-ctrd-l-${options.tag}`;
    this.cgroupParent = `/cni-containerd-${options.tag}`;
    this.pauseImage = `localhost/cni-e2e-pause:${options.tag}`;
  }

  /** Makes the folders, namespace, holder and image, and starts containerd. */
  static async start(options: ContainerdSandboxOptions): Promise<ContainerdSandbox> {
    const sandbox = new ContainerdSandbox(options);
    try {
      await sandbox.#setUp();
    } catch (error) {
      await sandbox.close();
      throw error;
    }
    return sandbox;
  }

  /** containerd's own log (its stdout and stderr). */
  get logFile(): string {
    return join(this.dir, 'containerd.log');
  }

  async #setUp(): Promise<void> {
    const { dir, dirs } = this;
    for (const folder of [dirs.root, dirs.state, dirs.netd, dirs.runcRoot, join(dir, 'run', 'netns'), join(dir, 'var-lib')]) mkdirSync(folder, { recursive: true });
    const config = join(dir, 'config.toml');
    writeFileSync(config, containerdConfig({ dirs, binDir: this.#options.binDir, sandboxImage: this.pauseImage }));
    writeFileSync(join(dirs.netd, '10-multinet.conflist'), `${JSON.stringify(this.#options.conflist(dir), null, 2)}\n`);

    mustRun('ip', ['netns', 'add', this.hostNs]);
    mustRun('ip', ['netns', 'add', this.lanNs]);
    mustRun('ip', ['-n', this.hostNs, 'link', 'set', 'lo', 'up']);
    mustRun('ip', ['-n', this.hostNs, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.lanNs]);
    mustRun('ip', ['-n', this.lanNs, 'addr', 'add', `${ContainerdSandbox.LAN_PEER}/24`, 'dev', 'eth0']);
    mustRun('ip', ['-n', this.lanNs, 'link', 'set', 'eth0', 'up']);
    mustRun('ip', ['-n', this.hostNs, 'link', 'set', 'lan0', 'up']);

    // The holder: a process in the node namespace and a private mount namespace whose /run and
    // /var/lib are the sandbox's folders; containerd is started inside it and every pod namespace
    // it mounts dies with it. PDEATHSIG ends it if the test process dies.
    const script = 'mount --bind "$1/run" /run && mount --bind "$1/var-lib" /var/lib && echo ready && exec sleep infinity';
    const holder = (this.#holder = await startMountHolder(this.hostNs, dir, script));

    const log = openSync(this.logFile, 'a');
    try {
      this.#containerd = spawn(
        'setpriv',
        ['--pdeathsig', 'KILL', 'nsenter', '-t', String(holder.pid), '-m', '-n', `--wd=${dir}`, 'containerd', '--config', config, '--log-level', 'info'],
        { stdio: ['ignore', log, log], env: { PATH: SANDBOX_PATH, HOME: dir, TMPDIR: dir } },
      );
    } finally {
      closeSync(log);
    }
    this.cri = new CriClient(dirs.socket, this.#options.proto);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.#containerd.exitCode !== null) throw new Error(`containerd exited (${this.#containerd.exitCode}): ${this.#tailLog()}`);
      try {
        await this.cri.version();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`containerd's CRI did not answer on "${dirs.socket}": ${String(error)}; ${this.#tailLog()}`);
        await sleep(200);
      }
    }
    const tarball = writePauseImage(dir, this.pauseImage);
    const imported = await this.ctr(['images', 'import', '--snapshotter', 'native', tarball]);
    if (imported.status !== 0) throw new Error(`ctr images import failed (${imported.status}): ${imported.stderr}`);
  }

  #tailLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The pid of the process holding the sandbox's mount namespace. */
  get holderPid(): number | undefined {
    return this.#holder?.exitCode === null ? this.#holder.pid : undefined;
  }

  /** `ctr` on the sandbox's socket, in the CRI plugin's `k8s.io` namespace. */
  ctr(args: readonly string[]): Promise<CommandResult> {
    return runCommand('ctr', ['--address', this.dirs.socket, '--namespace', 'k8s.io', ...args], { env: { PATH: SANDBOX_PATH, HOME: this.dir } });
  }

  /** Runs a program in the sandbox's node namespace and mount namespace (pod netns names resolve there). */
  inNode(file: string, args: readonly string[]): Promise<CommandResult> {
    const pid = this.holderPid;
    if (pid === undefined) throw new Error(`the sandbox "${this.dir}" is closed`);
    return runCommand('nsenter', ['-t', String(pid), '-m', '-n', file, ...args], { env: { PATH: SANDBOX_PATH } });
  }

  /**
   * The network namespaces the CRI plugin has mounted for pods (`cni-<uuid>` under the sandbox's
   * /run/netns; the machine's own, shadowed by the bind mount, still show in the mount table).
   */
  async podNetns(): Promise<string[]> {
    const result = await this.inNode('sh', ['-c', 'awk \'$5 ~ "^/run/netns/cni-" { print $5 }\' /proc/self/mountinfo']);
    return result.stdout
      .split('\n')
      .map((path) => path.slice('/run/netns/'.length))
      .filter((name) => /^cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u.test(name));
  }

  /** Pids in the sandbox's cgroup parent (pause processes), any hierarchy. */
  cgroupPids(): number[] {
    const pids = new Set<number>();
    for (const folder of this.cgroupFolders()) {
      try {
        for (const line of readFileSync(join(folder, 'cgroup.procs'), 'utf8').split('\n')) if (line !== '') pids.add(Number(line));
      } catch {
        // Removed meanwhile.
      }
    }
    return [...pids];
  }

  /** Pids whose command line names the sandbox's folder, the holder apart (containerd, its shims). */
  sandboxPids(): number[] {
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === this.holderPid || Number(entry) === process.pid) continue;
      try {
        if (readFileSync(join('/proc', entry, 'cmdline'), 'utf8').includes(this.dir)) found.push(Number(entry));
      } catch {
        // Gone.
      }
    }
    return found;
  }

  /** The cgroup folders of the sandbox's cgroup parent that still exist. */
  cgroupFolders(): string[] {
    return cgroupHierarchies().flatMap((root) => walkFolders(join(root, this.cgroupParent)));
  }

  /**
   * Stops and removes every pod sandbox through CRI, stops containerd, kills what is left by pid
   * (pause processes in the cgroup parent, shims naming the folder), ends the holder, deletes the
   * namespace, the cgroups and the temp folder. Safe to call twice and after a failed start.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#containerd?.exitCode === null) {
      try {
        for (const pod of await this.cri.listPodSandbox()) {
          await this.cri.stopPodSandbox(pod.id).catch(() => undefined);
          await this.cri.removePodSandbox(pod.id).catch(() => undefined);
        }
      } catch {
        // containerd does not answer: what it made is killed below.
      }
    }
    this.cri?.close();
    const containerd = this.#containerd;
    if (containerd !== undefined && containerd.exitCode === null && containerd.signalCode === null) {
      const exited = new Promise((resolve) => containerd.once('exit', resolve));
      containerd.kill('SIGTERM');
      const timer = setTimeout(() => containerd.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
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
    for (const ns of [this.lanNs, this.hostNs]) if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'delete', ns]);
    for (let attempt = 0; attempt < 50 && this.cgroupFolders().length > 0; attempt++) {
      for (const folder of this.cgroupFolders().reverse()) {
        try {
          rmdirSync(folder);
        } catch {
          // Still busy, or gone: the next round sees.
        }
      }
      if (this.cgroupFolders().length > 0) await sleep(100);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The mounted cgroup hierarchies (v1 controllers, the unified one, or cgroup2 alone). */
function cgroupHierarchies(): string[] {
  const roots: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mountPart, fsPart] = line.split(' - ');
    const fsType = fsPart?.split(' ')[0];
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
