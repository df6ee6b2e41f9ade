// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, lstatSync, openSync, readSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What `about.json` in a bundle's payload says of it. */
export interface BundleAbout {
  /** The bundle's version (`0.1.0`). */
  version: string;
  /** The Node runtime it carries (`v24.21.0`). */
  node: string;
  /** The payload's identity: version and a hash of its contents. Names its folder. */
  id: string;
  /** The plugin names it ships, as upstream names the executables. */
  plugins: string[];
  /** The architecture it is built for (`x64`, `arm64`); older bundles do not say. */
  arch?: string;
}

/** The folder prefix of installed payloads: `.cni-bundle-<id>`. Hidden, so `ls` shows plugins. */
export const PAYLOAD_PREFIX = '.cni-bundle-';

/** Read a payload's `about.json`. */
export function readAbout(payload: string): BundleAbout {
  return JSON.parse(readFileSync(join(payload, 'about.json'), 'utf8')) as BundleAbout;
}

/** What {@link install} did. */
export interface InstallReport {
  /** The payload folder the links now point into. */
  payload: string;
  /** Whether the payload was copied (false: that payload was installed already). */
  copied: boolean;
  /** The names linked: every plugin, and `cni-bundle`. */
  linked: string[];
  /** Links of plugins the bundle no longer ships, removed. */
  removedLinks: string[];
  /** Older payloads removed (the one replaced is kept for plugins still running from it). */
  removedPayloads: string[];
}

const temporaryName = (name: string) => `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Install the bundle whose payload is `from` into `dir` (e.g. /opt/cni/bin) so that a runtime
 * never sees a half-written file: the payload is copied under a temporary name and renamed into
 * place whole, then each plugin name is made a symbolic link to its launcher by renaming a new
 * link over the old name (a file or link there, such as a Go plugin, is replaced). The folder
 * costs one runtime, however many plugins.
 *
 * The payload replaced is kept: a plugin started from it a moment ago may still load a delegate
 * from it. Payloads older than that are removed.
 */
export function install(from: string, dir: string, options: { anyArch?: boolean } = {}): InstallReport {
  const about = readAbout(from);
  if (!options.anyArch) checkArch(from);
  mkdirSync(dir, { recursive: true });
  const payloadName = `${PAYLOAD_PREFIX}${about.id}`;
  const payload = join(dir, payloadName);
  let copied = false;
  if (!existsSync(join(payload, 'about.json'))) {
    const staging = join(dir, temporaryName(payloadName));
    try {
      cpSync(from, staging, { recursive: true, verbatimSymlinks: true });
      try {
        renameSync(staging, payload);
        copied = true;
      } catch (error) {
        // Another install of the same payload (same id, same contents) got there first: keep it,
        // since plugins may already run from it.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  const previous = linkTarget(join(dir, 'cni-bundle'));
  const linked: string[] = [];
  for (const name of [...about.plugins, 'cni-bundle']) {
    const staging = join(dir, temporaryName(name));
    symlinkSync(`${payloadName}/cni-bundle`, staging);
    try {
      renameSync(staging, join(dir, name));
    } catch (error) {
      rmSync(staging, { force: true });
      throw error;
    }
    linked.push(name);
  }

  // Links into a payload of ours under names this bundle no longer ships.
  const removedLinks: string[] = [];
  const shipped = new Set(linked);
  for (const entry of readdirSync(dir)) {
    if (shipped.has(entry)) continue;
    const target = linkTarget(join(dir, entry));
    if (target?.startsWith(PAYLOAD_PREFIX) && target.endsWith('/cni-bundle')) {
      rmSync(join(dir, entry), { force: true });
      removedLinks.push(entry);
    }
  }

  const keep = new Set([payloadName, previous?.split('/')[0]]);
  const removedPayloads: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(PAYLOAD_PREFIX) || keep.has(entry)) continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
    removedPayloads.push(entry);
  }
  return { payload, copied, linked, removedLinks, removedPayloads };
}

const MACHINES: Readonly<Record<number, string>> = { 62: 'x64', 183: 'arm64' };

/** The ELF machine of `file` (x64, arm64, or its number); undefined when it cannot be read. */
function machineOf(file: string): string | undefined {
  try {
    const header = Buffer.alloc(20);
    const fd = openSync(file, 'r');
    try {
      if (readSync(fd, header, 0, 20, 0) < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
    } finally {
      closeSync(fd);
    }
    const machine = header.readUInt16LE(18);
    return MACHINES[machine] ?? String(machine);
  } catch {
    return undefined;
  }
}

/**
 * Refuses a payload built for another architecture than the machine's. Without an emulator such a
 * bundle cannot start at all; with qemu-user registered in binfmt_misc it would install and run
 * every plugin emulated, many times slower. The machine's architecture is read from its own
 * /bin/sh, which an emulator does not change (process.arch is the emulated one).
 */
function checkArch(from: string): void {
  const bundle = machineOf(join(from, 'cni-bundle'));
  const host = machineOf('/bin/sh');
  if (bundle === undefined || host === undefined || bundle === host) return;
  throw new Error(`this bundle is built for linux-${bundle} and this machine is linux-${host}: install the linux-${host} tarball`);
}

/** Where the symbolic link `path` points; undefined when it is not a link. */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}
