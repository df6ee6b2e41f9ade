// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The systemd units the payload ships (systemd/ in the payload, deploy/systemd in the sources). */
export const RESIDENT_UNITS = ['cni-bundle.socket', 'cni-bundle.service'] as const;

/** What {@link installResident} did. */
export interface ResidentReport {
  /** The unit files written. */
  units: string[];
  /** The systemctl commands run; empty when systemd is not running on this host. */
  commands: string[][];
}

/**
 * Put the resident daemon's systemd units in place for the bundle installed in `binDir`: the
 * payload's templates with their folder filled in, written atomically into `unitDir`; then, when
 * systemd runs this host, reload it, enable and start the socket, and restart the daemon if it
 * was running (so that it runs the payload just installed: the old one drains).
 */
export function installResident(payload: string, binDir: string, unitDir = '/etc/systemd/system'): ResidentReport {
  const templates = join(payload, 'systemd');
  const bin = resolve(binDir);
  mkdirSync(unitDir, { recursive: true });
  const units: string[] = [];
  for (const unit of RESIDENT_UNITS) {
    const text = readFileSync(join(templates, unit), 'utf8').replaceAll('@BINDIR@', bin);
    const target = join(unitDir, unit);
    const staging = `${target}.tmp-${process.pid}`;
    writeFileSync(staging, text, { mode: 0o644 });
    renameSync(staging, target);
    units.push(target);
  }
  const commands: string[][] = [];
  if (existsSync('/run/systemd/system')) {
    for (const args of [['daemon-reload'], ['enable', '--now', 'cni-bundle.socket'], ['try-restart', 'cni-bundle.service']]) {
      const out = spawnSync('systemctl', args, { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`systemctl ${args.join(' ')} failed: ${out.stderr || out.error?.message || `exit ${out.status}`}`);
      commands.push(['systemctl', ...args]);
    }
  }
  return { units, commands };
}

/** The unit templates a payload holds (for `cni-bundle list --units` and tests). */
export function residentTemplates(payload: string): string[] {
  const dir = join(payload, 'systemd');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
