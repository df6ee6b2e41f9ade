// SPDX-License-Identifier: Apache-2.0
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * One vitest project per workspace package, and one tier per run.
 *
 * The tier comes from CNI_TIER (scripts/run-tier.mjs sets it) and is chosen by file name, so a
 * test says what it needs in its name:
 * - unit:   *.test.ts            pure logic, runs anywhere
 * - kernel: *.integration.test.ts  root and fresh network namespaces on the host kernel
 * - e2e:    *.e2e.test.ts        the built executables, driven as a runtime drives them
 * - vm:     *.vm.test.ts         link kinds the host kernel lacks; run inside the qemu VM tier
 * - lease:  *.lease.test.ts      real DHCP lease lifetimes (renewal, expiry): minutes of waiting,
 *                                run in the background beside the other tiers
 * - fuzz:   *.fuzz.test.ts       malformed requests for every plugin, in-process, inside a network
 *                                namespace of their own (scripts/run-tier.mjs fuzz starts vitest there)
 */
const tier = process.env.CNI_TIER ?? 'unit';

const tierFiles: Record<string, { include: string[]; exclude: string[] }> = {
  unit: {
    include: ['**/*.test.ts'],
    exclude: ['**/*.integration.test.ts', '**/*.e2e.test.ts', '**/*.vm.test.ts', '**/*.lease.test.ts', '**/*.fuzz.test.ts'],
  },
  kernel: { include: ['**/*.integration.test.ts'], exclude: [] },
  e2e: { include: ['**/*.e2e.test.ts'], exclude: [] },
  vm: { include: ['**/*.vm.test.ts'], exclude: [] },
  lease: { include: ['**/*.lease.test.ts'], exclude: [] },
  fuzz: { include: ['**/*.fuzz.test.ts'], exclude: [] },
};

const files = tierFiles[tier];
if (!files) throw new Error(`unknown CNI_TIER "${tier}", expected one of ${Object.keys(tierFiles).join(', ')}`);

/** Every folder of the workspace that holds a package.json, as pnpm-workspace.yaml lists them. */
function workspacePackages(): { name: string; dir: string }[] {
  const globs = ['packages', 'packages/plugins', 'packages/plugins/main', 'packages/plugins/ipam', 'packages/plugins/meta', 'apps'];
  const found: { name: string; dir: string }[] = [];
  for (const parent of globs) {
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const manifest = join(parent, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      found.push({ name: JSON.parse(readFileSync(manifest, 'utf8')).name, dir: join(parent, entry.name) });
    }
  }
  if (existsSync('integration/package.json')) found.push({ name: 'integration', dir: 'integration' });
  return found;
}

const serverConditions = ['@cni/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions: serverConditions },
  ssr: { resolve: { conditions: serverConditions, externalConditions: ['@cni/source'] } },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Room for a loaded 2-core machine (the VM tier runs beside the others in CI): kernel and e2e
    // tests create namespaces and start processes, and unit property tests run thousands of cases.
    // Lease tests wait out dnsmasq's shortest lease (2 minutes) and more.
    testTimeout: tier === 'unit' ? 30_000 : tier === 'lease' ? 600_000 : 90_000,
    hookTimeout: tier === 'unit' ? 30_000 : tier === 'lease' ? 120_000 : 90_000,
    projects: workspacePackages().map(({ name, dir }) => ({
      extends: true,
      test: {
        name,
        root: dir,
        include: files.include,
        exclude: ['**/node_modules/**', '**/dist/**', ...files.exclude],
      },
    })),
  },
});
