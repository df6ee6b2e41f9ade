// SPDX-License-Identifier: Apache-2.0
import { getDefaultRunner, runChecked, type CommandRunner } from '@cni/netfilter';
import { writeSysctl } from '@cni/netns';
import type { PortMapEntry } from './net-conf.ts';

/**
 * The interface the host routes the container's address through (upstream's
 * `getRoutableHostIF`), from `ip route get`; undefined when there is no route.
 */
export async function routableHostInterface(address: string, runner: CommandRunner = getDefaultRunner()): Promise<string | undefined> {
  try {
    const routes = JSON.parse(await runChecked(runner, 'ip', ['-j', 'route', 'get', address])) as { dev?: string }[];
    return routes.find((route) => route.dev !== undefined)?.dev;
  } catch {
    return undefined;
  }
}

/**
 * `net.ipv4.conf.<ifName>.route_localnet = 1`: connections from 127.0.0.1 DNATed to the container
 * may then leave through that interface instead of being dropped as martians.
 */
export function enableLocalnetRouting(ifName: string): void {
  writeSysctl(`net/ipv4/conf/${ifName}/route_localnet`, 1);
}

/**
 * Delete the UDP conntrack entries to each mapped UDP host port, so that a client that kept
 * sending to the port before the mapping existed reaches the container now (upstream's
 * `deletePortmapStaleConnections`). Through the `conntrack` tool; it exits 1 when nothing matched.
 * Returns the failures, which upstream only logs.
 */
export async function deleteStaleUdpConntrack(mappings: readonly PortMapEntry[], family: 4 | 6, runner: CommandRunner = getDefaultRunner()): Promise<string[]> {
  const failures: string[] = [];
  const ports = new Set(mappings.filter((entry) => entry.protocol === 'udp').map((entry) => entry.hostPort));
  for (const port of ports) {
    try {
      const result = await runner('conntrack', ['-D', '-f', family === 6 ? 'ipv6' : 'ipv4', '-p', 'udp', '--orig-port-dst', String(port)]);
      if (result.exitCode !== 0 && !/0 flow entries/.test(result.stderr)) failures.push(`conntrack port ${port}: ${result.stderr.trim()}`);
    } catch (error) {
      failures.push(`conntrack port ${port}: ${(error as Error).message}`);
    }
  }
  return failures;
}
