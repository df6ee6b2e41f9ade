// SPDX-License-Identifier: Apache-2.0
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTeardown, type FixtureScope } from './cleanup.ts';

/**
 * Makes a fresh folder for this test (for a plugin's dataDir, a result cache, backups) and removes
 * it, with everything in it, when the test finishes.
 *
 * @example
 * ```ts
 * const dataDir = await useTempDir('host-local');
 * const conf = { ..., ipam: { type: 'host-local', dataDir, ... } };
 * ```
 */
export async function useTempDir(prefix = 'dir', scope: FixtureScope = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cnitest-${prefix}-`));
  registerTeardown(() => rm(dir, { recursive: true, force: true }), scope);
  return dir;
}
