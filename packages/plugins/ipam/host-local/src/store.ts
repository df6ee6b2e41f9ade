// SPDX-License-Identifier: Apache-2.0
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  constants as fsConstants,
} from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { type IpAddress, tryParseIp } from '@cni/ip';
import { isValidName } from '@cni/spec';
import { flockAsync, LOCK_EX, LOCK_UN, flock, tryFlock } from '@cni/sys';
import { hostLocalError } from './range-set.ts';

/** Prefix of the files that hold each range set's last reserved address, as upstream names them. */
export const LAST_RESERVED_PREFIX = 'last_reserved_ip.';
/** The file flock'd around every operation, as upstream's `disk.FileLock`. */
export const LOCK_FILE = 'lock';
/** Between a lease's id and interface name, as upstream writes it. */
export const LINE_BREAK = '\r\n';
// Our temporary files start with a dot: Go's net.ParseIP never takes them for a lease.
const TMP_PREFIX = '.cni-tmp-';

/** One reservation on disk: a file named after the address. */
export interface Lease {
  /** The address. */
  readonly ip: IpAddress;
  /** The file's name inside the store (the address as text). */
  readonly file: string;
  /** The container ID written in the file. */
  readonly containerId: string;
  /** The interface name written in the file; undefined for upstream's legacy files that hold only the ID. */
  readonly ifName: string | undefined;
}

/** The key upstream matches leases by: the trimmed file content. */
export function ownerKey(containerId: string, ifName: string): string {
  return `${containerId.trim()}${LINE_BREAK}${ifName}`;
}

function parseOwner(content: string): { containerId: string; ifName: string | undefined } {
  const trimmed = content.trim();
  const at = trimmed.indexOf(LINE_BREAK);
  if (at < 0) return { containerId: trimmed, ifName: undefined };
  return { containerId: trimmed.slice(0, at), ifName: trimmed.slice(at + LINE_BREAK.length) };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

let tmpCounter = 0;

/**
 * host-local's store: `<dataDir>/<network>/`, one file per reserved address holding
 * `containerID\r\nifname`, `last_reserved_ip.<set>`, and a `lock` file flock'd around every
 * operation, so that ours and upstream's binaries can share a folder.
 *
 * Unlike upstream, which reads every lease file on every ADD and DEL, the store keeps an
 * index of the leases in memory and trusts it while the folder's identity and timestamps are
 * those it saw after its own last change (any create or remove in the folder, by any process,
 * changes them); otherwise it reads the folder again. Writes are atomic: a lease is written in
 * full to a temporary file and linked to its name (the link fails when the name is taken, as
 * upstream's `O_EXCL`). A process killed at any point leaves either no lease or a complete
 * one, and at most a temporary file that the next read of the folder removes.
 * `last_reserved_ip.N` is rewritten in place with one write, as upstream does: a crash can
 * only empty it, which restarts the round robin and never hands out a taken address.
 */
export class DiskStore {
  /** The store's folder, `<dataDir>/<network>`. */
  readonly dir: string;
  #lockFd: number;
  #held = false;
  #fresh = false;
  #dirty = false;
  #queue: Promise<void> = Promise.resolve();
  #stamp: string | undefined;
  #leases = new Map<string, Lease>();
  #byOwner = new Map<string, Set<string>>();

  private constructor(dir: string, lockFd: number) {
    this.dir = dir;
    this.#lockFd = lockFd;
  }

  /**
   * Open (creating, mode 0755) the store of `network` under `dataDir`.
   *
   * @throws CniError for a network name that is not a valid CNI name, or when the folder
   * cannot be made.
   */
  static open(dataDir: string, network: string): DiskStore {
    if (!isValidName(network)) throw hostLocalError(`invalid network name "${network}"`);
    const base = resolve(dataDir);
    const dir = join(base, network);
    if (!dir.startsWith(base + sep)) throw hostLocalError(`network "${network}" escapes data dir "${dataDir}"`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const fd = openSync(join(dir, LOCK_FILE), fsConstants.O_RDONLY | fsConstants.O_CREAT, 0o600);
      return new DiskStore(dir, fd);
    } catch (error) {
      throw hostLocalError(`failed to open store "${dir}": ${(error as Error).message}`);
    }
  }

  /** Close the lock file. */
  close(): void {
    if (this.#lockFd >= 0) closeSync(this.#lockFd);
    this.#lockFd = -1;
  }

  /**
   * Run `body` holding the store's lock: a queue among callers of this process, flock among
   * processes (upstream's binary included). The lock is released even when `body` throws.
   */
  async withLock<T>(body: () => T | Promise<T>): Promise<T> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      if (!tryFlock(this.#lockFd, LOCK_EX)) await flockAsync(this.#lockFd, LOCK_EX);
      this.#held = true;
      this.#fresh = false;
      this.#dirty = false;
      try {
        return await body();
      } finally {
        // Our own changes are in the index; remember the folder as they left it.
        if (this.#dirty) this.#stamp = this.#fresh ? this.#dirStamp() : undefined;
        this.#held = false;
        flock(this.#lockFd, LOCK_UN);
      }
    } finally {
      release();
    }
  }

  #assertHeld(): void {
    if (!this.#held) throw new Error('host-local store used without its lock');
  }

  #dirStamp(): string {
    const stat = statSync(this.dir, { bigint: true });
    return `${stat.ino}/${stat.mtimeNs}/${stat.ctimeNs}/${stat.size}`;
  }

  // Called under the lock before any read of the index: reads the folder again when another
  // process (or a crash) changed it since our own last change.
  #sync(): void {
    if (this.#fresh) return;
    const stamp = this.#dirStamp();
    if (stamp !== this.#stamp) {
      this.#rescan();
      this.#stamp = this.#dirStamp();
    }
    this.#fresh = true;
  }

  // The index may miss a change: read the folder at the next look.
  #invalidate(): void {
    this.#stamp = undefined;
    this.#fresh = false;
  }

  #rescan(): void {
    this.#leases.clear();
    this.#byOwner.clear();
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      const name = entry.name;
      if (name.startsWith(TMP_PREFIX)) {
        // Writers hold the lock while a temporary file exists; one seen under the lock is a
        // crashed writer's.
        this.#unlinkQuiet(name);
        continue;
      }
      if (!entry.isFile()) continue;
      const ip = tryParseIp(name);
      if (ip === undefined) continue;
      let content: string;
      try {
        content = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      const owner = parseOwner(content);
      this.#remember({ ip, file: name, ...owner });
    }
  }

  #key(lease: Lease): string {
    return lease.ifName === undefined ? lease.containerId : `${lease.containerId}${LINE_BREAK}${lease.ifName}`;
  }

  #remember(lease: Lease): void {
    this.#leases.set(lease.file, lease);
    const key = this.#key(lease);
    let files = this.#byOwner.get(key);
    if (files === undefined) this.#byOwner.set(key, (files = new Set()));
    files.add(lease.file);
  }

  #forget(file: string): void {
    const lease = this.#leases.get(file);
    if (lease === undefined) return;
    this.#leases.delete(file);
    const key = this.#key(lease);
    const files = this.#byOwner.get(key);
    files?.delete(file);
    if (files?.size === 0) this.#byOwner.delete(key);
  }

  #unlinkQuiet(name: string): void {
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // Gone already.
    }
  }

  #writeTemp(content: string): string {
    const name = `${TMP_PREFIX}${process.pid}-${++tmpCounter}`;
    const fd = openSync(join(this.dir, name), 'wx', 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return name;
  }

  /** True when `ip` has a lease file (the index, kept current, answers). Needs the lock. */
  isReserved(ip: IpAddress): boolean {
    this.#assertHeld();
    this.#sync();
    return this.#leases.has(ip.toString());
  }

  /**
   * Reserve `ip` for the attachment: false when it is taken. Writes the lease in full, then
   * `last_reserved_ip.<rangeId>`. Needs the lock.
   */
  reserve(containerId: string, ifName: string, ip: IpAddress, rangeId: string): boolean {
    this.#assertHeld();
    this.#sync();
    const file = ip.toString();
    if (this.#leases.has(file)) return false;
    const tmp = this.#writeTemp(ownerKey(containerId, ifName));
    try {
      linkSync(join(this.dir, tmp), join(this.dir, file));
    } catch (error) {
      this.#unlinkQuiet(tmp);
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        // Written by a process our stamp did not see change (a coarse clock): learn it.
        this.#invalidate();
        return false;
      }
      throw error;
    }
    this.#unlinkQuiet(tmp);
    this.#remember({ ip, file, containerId: containerId.trim(), ifName });
    // Rewritten in place, as upstream does, with one write: readers hold the lock, and a crash
    // between truncation and write leaves an empty file, which only restarts the round robin.
    writeFileSync(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeId}`), file, { mode: 0o600 });
    this.#dirty = true;
    return true;
  }

  /** The address last reserved in range set `rangeId`, or undefined (no file, or not an address). */
  lastReservedIp(rangeId: string): IpAddress | undefined {
    try {
      return tryParseIp(readFileSync(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeId}`), 'utf8'));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /**
   * The addresses the attachment holds, with upstream's legacy fallback: files holding
   * `containerID\r\nifName` and files holding only `containerID`. Sorted as a folder walk
   * meets them. Needs the lock.
   */
  ownedBy(containerId: string, ifName: string): Lease[] {
    this.#assertHeld();
    this.#sync();
    const files = [
      ...(this.#byOwner.get(ownerKey(containerId, ifName)) ?? []),
      ...(this.#byOwner.get(containerId.trim()) ?? []),
    ].sort();
    return files.map((file) => this.#leases.get(file)!);
  }

  /**
   * Release every lease of the attachment; when it has none, the legacy files holding only
   * its container ID, as upstream's `ReleaseByID`. Each file is read again before it is
   * removed. Returns what was released. Needs the lock.
   */
  releaseBy(containerId: string, ifName: string): Lease[] {
    this.#assertHeld();
    this.#sync();
    let released = this.#releaseKey(ownerKey(containerId, ifName));
    if (released.length === 0) released = this.#releaseKey(containerId.trim());
    return released;
  }

  #releaseKey(key: string): Lease[] {
    const released: Lease[] = [];
    for (const file of [...(this.#byOwner.get(key) ?? [])].sort()) {
      const lease = this.#leases.get(file)!;
      if (this.#removeIfOwned(lease, key)) released.push(lease);
    }
    return released;
  }

  #removeIfOwned(lease: Lease, key: string): boolean {
    const path = join(this.dir, lease.file);
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
      this.#forget(lease.file);
      this.#invalidate();
      return false;
    }
    if (content.trim() !== key) {
      this.#invalidate();
      return false;
    }
    unlinkSync(path);
    this.#forget(lease.file);
    this.#dirty = true;
    return true;
  }

  /** Remove one lease if its file still holds what `lease` says. Needs the lock. */
  release(lease: Lease): boolean {
    this.#assertHeld();
    return this.#removeIfOwned(lease, this.#key(lease));
  }

  /**
   * Every lease, read from the folder now (not from the index), which also removes crashed
   * writers' temporary files. Needs the lock.
   */
  scan(): Lease[] {
    this.#assertHeld();
    this.#rescan();
    this.#stamp = this.#dirStamp();
    this.#fresh = true;
    return [...this.#leases.values()];
  }

  /** Every lease the index knows, read again only when the folder changed. Needs the lock. */
  leases(): Lease[] {
    this.#assertHeld();
    this.#sync();
    return [...this.#leases.values()];
  }
}
