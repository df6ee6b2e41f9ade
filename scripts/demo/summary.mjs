// SPDX-License-Identifier: Apache-2.0
// Prints what each pod got, read back from the kernel with `ip -j` (not from the plugins' results),
// so the table shows what is really there.
// Usage: node summary.mjs <netns>...
import { execFileSync } from 'node:child_process';

const rows = [['pod', 'interface', 'kind', 'mac', 'addresses', 'mtu']];
for (const netns of process.argv.slice(2)) {
  const links = JSON.parse(execFileSync('ip', ['-n', netns, '-d', '-j', 'link', 'show'], { encoding: 'utf8' }));
  const addrs = JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'addr', 'show'], { encoding: 'utf8' }));
  for (const link of links) {
    if (link.ifname === 'lo') continue;
    const info = addrs.find((a) => a.ifname === link.ifname);
    const addresses = (info?.addr_info ?? [])
      .filter((a) => a.scope === 'global')
      .map((a) => `${a.local}/${a.prefixlen}`)
      .join(' ');
    rows.push([netns, link.ifname, link.linkinfo?.info_kind ?? '-', link.address ?? '-', addresses || '-', String(link.mtu)]);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const [i, row] of rows.entries()) {
  console.log(`  ${row.map((cell, j) => cell.padEnd(widths[j])).join('  ')}`.trimEnd());
  if (i === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
}
