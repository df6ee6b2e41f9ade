// SPDX-License-Identifier: Apache-2.0
// Leak collection for one node: the handles of one CNI network whose container the runtime no
// longer knows, after a grace period (an ADD under way at GC time is not a leak).
import { ATTR_NODE, ATTR_TIMESTAMP, blockHandles, parseTimestamp } from './model.ts';
import type { CalicoIpam } from './ipam.ts';

/** What {@link collectGarbage} takes. */
export interface GcOptions {
  /** Handles of this network start with this (`<network>.`). */
  handlePrefix: string;
  /** The container IDs whose handles stay (from `cni.dev/valid-attachments`). */
  keep: ReadonlySet<string>;
  /** Allocations younger than this (by their `timestamp` attribute) stay. */
  graceMs: number;
  now?: number;
}

/** What a GC did. */
export interface GcReport {
  releasedHandles: string[];
  releasedAddresses: number;
  releasedBlocks: string[];
}

/**
 * Release the handles of `ipam.node` under `handlePrefix` whose container is not in `keep` and
 * whose allocation is older than the grace period, then the node's blocks left empty.
 */
export async function collectGarbage(ipam: CalicoIpam, options: GcOptions): Promise<GcReport> {
  const now = options.now ?? Date.now();
  const candidates = new Set<string>();
  for (const { block } of await ipam.blocks()) {
    for (const [handleId, entry] of blockHandles(block)) {
      if (!handleId.startsWith(options.handlePrefix)) continue;
      if (entry.secondary?.[ATTR_NODE] !== ipam.node) continue;
      if (options.keep.has(handleId.slice(options.handlePrefix.length))) continue;
      const stamp = parseTimestamp(entry.secondary?.[ATTR_TIMESTAMP]);
      // No readable timestamp: as old as can be.
      if (stamp !== undefined && now - stamp < options.graceMs) continue;
      candidates.add(handleId);
    }
  }
  const report: GcReport = { releasedHandles: [], releasedAddresses: 0, releasedBlocks: [] };
  for (const handleId of candidates) {
    const count = await ipam.releaseByHandle(handleId);
    report.releasedHandles.push(handleId);
    report.releasedAddresses += count;
  }
  report.releasedBlocks = (await ipam.releaseEmptyBlocks()).map((cidr) => cidr.toString());
  return report;
}
