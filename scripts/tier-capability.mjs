// SPDX-License-Identifier: Apache-2.0
// Whether a test tier can run on this machine. A tier that can run must not skip tests:
// scripts/tier-summary.mjs fails the run when it does, so a green run never hides kernel tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

function has(command) {
  return spawnSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' }).status === 0;
}

/** @returns {{ canRun: boolean, reason: string }} */
export function tierCapability(tier) {
  if (tier === 'unit') return { canRun: true, reason: '' };
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) return { canRun: false, reason: 'not running as root' };
  if (process.platform !== 'linux') return { canRun: false, reason: `platform is ${process.platform}` };
  const tools =
    tier === 'vm' ? ['qemu-system-x86_64'] : tier === 'lease' ? ['ip', 'dnsmasq'] : ['ip', 'tc', 'nft', 'iptables', 'iptables-save'];
  const missing = tools.filter((tool) => !has(tool));
  if (missing.length > 0) return { canRun: false, reason: `missing tools: ${missing.join(', ')}` };
  if (tier === 'vm') {
    const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-.*-cloud-amd64$/.test(f)) : [];
    if (kernels.length === 0) return { canRun: false, reason: 'no linux-image-cloud-amd64 kernel in /boot' };
  }
  return { canRun: true, reason: '' };
}
