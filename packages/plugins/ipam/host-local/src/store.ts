// SPDX-License-Identifier: Apache-2.0
import {
  closeSync,
  linkSync,
  appendFileSync,
  mkdirSync,
  renameSync,
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
import { IpAddress, tryParseIp } from '@cni/ip';
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
/** Our index of the folder's leases; a dot file, so upstream's binary never takes it for a lease. */
export const INDEX_FILE = '.cni-index';
const INDEX_HEADER = 'cni-hostlocal-index 1';

const ipv4Name = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

// A lease file's name as an address: the common IPv4 case without the general parser, which
// matters when a folder of thousands of leases is read.
function parseLeaseName(name: string): IpAddress | undefined {
  const m = ipv4Name.exec(name);
  if (m !== null) {
    const [a, b, c, d] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (a > 255 || b > 255 || c > 255 || d > 255) return undefined;
    return new IpAddress(4, BigInt((((a * 256 + b) * 256 + c) * 256 + d)));
  }
  if (!name.includes(':')) return undefined;
  return tryParseIp(name);
}

// A lease as the index keeps it: the address parsed only when asked for.
class StoredLease implements Lease {
  readonly file: string;
  readonly containerId: string;
  readonly ifName: string | undefined;
  #ip: IpAddress | undefined;

  constructor(file: string, containerId: string, ifName: string | undefined, ip?: IpAddress) {
    this.file = file;
    this.containerId = containerId;
    this.ifName = ifName;
    this.#ip = ip;
  }

  get ip(): IpAddress {
    this.#ip ??= parseLeaseName(this.file) ?? tryParseIp(this.file)!;
    return this.#ip;
  }
}

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
 * index of the leases, in memory and in a journal (`.cni-index`: lines `+file\t"owner"`,
 * `-file`, and `=stamp` after each change), and trusts it while the folder's identity and
 * timestamps are those recorded after our own last change (any create or remove in the
 * folder, by any process, upstream's included, changes them); otherwise it reads the folder
 * again and rewrites the journal. So a fresh process reads one file, not one per lease. Writes are atomic: a lease is written in
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
  #mustRescan = false;
  #pending: string[] = [];
  #journalLines = 0;
  // last_reserved_ip.N as this process last wrote them. Upstream rewrites them in place, which
  // does not move the folder's stamp, but only together with a new lease, which does: while the
  // stamp is ours, so are they.
  #lastReserved = new Map<string, IpAddress>();
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
      this.#pending = [];
      try {
        return await body();
      } finally {
        try {
          this.#commit();
        } finally {
          this.#held = false;
          flock(this.#lockFd, LOCK_UN);
        }
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

  // Called under the lock before any read of the index. The index is good when the folder is
  // as our last change left it (this process's memory, or the journal another of our processes
  // wrote); otherwise the folder is read again and the journal rewritten.
  #sync(): void {
    if (this.#fresh) return;
    const stamp = this.#dirStamp();
    if (!this.#mustRescan && stamp === this.#stamp) {
      this.#fresh = true;
      return;
    }
    this.#lastReserved.clear();
    if (!this.#mustRescan && this.#loadJournal(stamp)) {
      this.#stamp = stamp;
      this.#fresh = true;
      return;
    }
    this.#rescan();
    this.#writeJournal();
    this.#fresh = true;
  }

  // The index may miss a change: read the folder at the next look.
  #invalidate(): void {
    this.#lastReserved.clear();
    this.#stamp = undefined;
    this.#fresh = false;
    this.#mustRescan = true;
    this.#pending = [];
  }

  // End of a hold of the lock: append this hold's changes and the folder's stamp after them
  // to the journal (appending changes no folder entry, so the stamp stays true).
  #commit(): void {
    if (!this.#dirty) return;
    if (!this.#fresh) {
      this.#pending = [];
      return;
    }
    const stamp = this.#dirStamp();
    if (this.#journalLines > 4 * this.#leases.size + 1024) {
      this.#writeJournal();
    } else {
      try {
        appendFileSync(join(this.dir, INDEX_FILE), `${this.#pending.join('\n')}\n=${stamp}\n`, { mode: 0o600 });
        this.#journalLines += this.#pending.length + 1;
        this.#stamp = stamp;
      } catch {
        this.#stamp = undefined;
      }
    }
    this.#pending = [];
  }

  #loadJournal(stamp: string): boolean {
    let text: string;
    try {
      text = readFileSync(join(this.dir, INDEX_FILE), 'utf8');
    } catch {
      return false;
    }
    if (!text.endsWith(`\n=${stamp}\n`) || !text.startsWith(`${INDEX_HEADER}\n`)) return false;
    this.#leases.clear();
    this.#byOwner.clear();
    const lines = text.split('\n');
    try {
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const kind = line.charCodeAt(0);
        if (kind === 43 /* + */) {
          const tab = line.indexOf('\t');
          const owner = parseOwner(JSON.parse(line.slice(tab + 1)) as string);
          this.#remember(new StoredLease(line.slice(1, tab), owner.containerId, owner.ifName), false);
        } else if (kind === 45 /* - */) {
          this.#forget(line.slice(1), false);
        }
      }
    } catch {
      this.#leases.clear();
      this.#byOwner.clear();
      return false;
    }
    this.#journalLines = lines.length;
    return true;
  }

  // The journal anew: every lease the index holds, then the folder's stamp (taken after the
  // rename, which is itself a change of the folder).
  #writeJournal(): void {
    const lines = [INDEX_HEADER];
    for (const lease of this.#leases.values()) lines.push(`+${lease.file}\t${JSON.stringify(this.#key(lease))}`);
    try {
      const tmp = this.#writeTemp(`${lines.join('\n')}\n`);
      renameSync(join(this.dir, tmp), join(this.dir, INDEX_FILE));
      const stamp = this.#dirStamp();
      appendFileSync(join(this.dir, INDEX_FILE), `=${stamp}\n`);
      this.#stamp = stamp;
      this.#journalLines = lines.length + 1;
    } catch {
      this.#stamp = this.#dirStamp();
    }
    this.#mustRescan = false;
    this.#pending = [];
  }

  #rescan(): void {
    this.#lastReserved.clear();
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
      const ip = parseLeaseName(name);
      if (ip === undefined) continue;
      let content: string;
      try {
        content = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      const owner = parseOwner(content);
      this.#remember(new StoredLease(name, owner.containerId, owner.ifName, ip), false);
    }
  }

  #key(lease: Lease): string {
    return lease.ifName === undefined ? lease.containerId : `${lease.containerId}${LINE_BREAK}${lease.ifName}`;
  }

  #remember(lease: Lease, log = true): void {
    if (log) this.#pending.push(`+${lease.file}\t${JSON.stringify(this.#key(lease))}`);
    this.#leases.set(lease.file, lease);
    const key = this.#key(lease);
    let files = this.#byOwner.get(key);
    if (files === undefined) this.#byOwner.set(key, (files = new Set()));
    files.add(lease.file);
  }

  #forget(file: string, log = true): void {
    const lease = this.#leases.get(file);
    if (lease === undefined) return;
    if (log) this.#pending.push(`-${file}`);
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
    // The random part keeps a reused pid from meeting a crashed writer's leftover.
    const name = `${TMP_PREFIX}${process.pid}-${++tmpCounter}-${Math.random().toString(36).slice(2, 10)}`;
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
    this.#remember(new StoredLease(file, containerId.trim(), ifName, ip));
    // Rewritten in place, as upstream does, with one write: readers hold the lock, and a crash
    // between truncation and write leaves an empty file, which only restarts the round robin.
    writeFileSync(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeId}`), file, { mode: 0o600 });
    this.#lastReserved.set(rangeId, ip);
    this.#dirty = true;
    return true;
  }

  /** The address last reserved in range set `rangeId`, or undefined (no file, or not an address). */
  lastReservedIp(rangeId: string): IpAddress | undefined {
    this.#assertHeld();
    this.#sync();
    const known = this.#lastReserved.get(rangeId);
    if (known !== undefined) return known;
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
    this.#writeJournal();
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
