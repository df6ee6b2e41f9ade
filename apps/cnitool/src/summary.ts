// SPDX-License-Identifier: Apache-2.0
import { toCurrentResult, type Result } from '@cni/spec';

/** What the summary says about the attachment besides the result. */
export interface SummaryContext {
  network: string;
  containerId: string;
  netns: string;
  ifName: string;
}

function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

/**
 * A result as a person reads it: interfaces (with where they live), addresses (with the
 * interface they are on), routes and DNS. Any result version is shown in 1.x terms.
 */
export function summarizeResult(result: Result, context: SummaryContext): string {
  const current = toCurrentResult(result);
  const lines = [`${context.network}: ${context.ifName} in ${context.netns} (container ${context.containerId}, cniVersion ${result.cniVersion})`];
  const interfaces = current.interfaces ?? [];
  if (interfaces.length > 0) {
    lines.push('interfaces:');
    lines.push(
      ...table(
        interfaces.map((iface, i) => [
          String(i),
          iface.name,
          iface.mac ?? '-',
          iface.sandbox ? `container ${iface.sandbox}` : 'host',
          ...(iface.mtu ? [`mtu ${iface.mtu}`] : []),
        ]),
      ),
    );
  }
  const ips = current.ips ?? [];
  if (ips.length > 0) {
    lines.push('addresses:');
    lines.push(
      ...table(
        ips.map((ip) => [
          ip.address,
          ip.gateway ? `gateway ${ip.gateway}` : '-',
          ip.interface === undefined ? '' : `on ${interfaces[ip.interface]?.name ?? `#${ip.interface}`}`,
        ]),
      ),
    );
  }
  const routes = current.routes ?? [];
  if (routes.length > 0) {
    lines.push('routes:');
    lines.push(...table(routes.map((route) => [route.dst, route.gw ? `via ${route.gw}` : 'via default gateway', ...(route.mtu ? [`mtu ${route.mtu}`] : [])])));
  }
  const dns = current.dns;
  if (dns && (dns.nameservers?.length || dns.domain || dns.search?.length || dns.options?.length)) {
    const parts = [
      ...(dns.nameservers?.length ? [`nameservers ${dns.nameservers.join(' ')}`] : []),
      ...(dns.domain ? [`domain ${dns.domain}`] : []),
      ...(dns.search?.length ? [`search ${dns.search.join(' ')}`] : []),
      ...(dns.options?.length ? [`options ${dns.options.join(' ')}`] : []),
    ];
    lines.push(`dns: ${parts.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
