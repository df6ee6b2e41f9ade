// SPDX-License-Identifier: Apache-2.0
import type { AddRequest } from '@cni/skel';
import type { Address } from '@cni/netlink';
import type { Result, ResultV100 } from '@cni/spec';
import { loadConf } from './net-conf.ts';
import { openSandbox } from '@cni/link';
import { LOOPBACK } from './net-conf.ts';

function isLoopbackAddress(address: Address): boolean {
  return address.family === 4 ? address.address.startsWith('127.') : address.address === '::1';
}

/**
 * ADD: bring `lo` up and report it. Chained, loopback passes the previous result on unchanged;
 * alone, it reports `lo` with its first IPv4 and first IPv6 address, as upstream does.
 */
export async function cmdAdd(request: AddRequest): Promise<Result> {
  const conf = loadConf(request);
  const nl = await openSandbox(request.netns);
  let addresses: Address[];
  try {
    await nl.link.setUp({ name: LOOPBACK });
    addresses = await nl.address.list({ link: { name: LOOPBACK } });
  } finally {
    nl.close();
  }
  // A lo carrying another address is not the loopback this plugin is meant to set up.
  const stranger = addresses.find((address) => !isLoopbackAddress(address));
  if (stranger) throw new Error(`loopback interface found with non-loopback address "${stranger.address}"`);
  if (conf.parsedPrevResult) return conf.parsedPrevResult;

  const result: ResultV100 = {
    cniVersion: '1.1.0',
    interfaces: [{ name: LOOPBACK, mac: '00:00:00:00:00:00', sandbox: request.netns }],
    ips: [],
  };
  for (const family of [4, 6] as const) {
    const first = addresses.find((address) => address.family === family);
    if (first) result.ips!.push({ interface: 0, address: first.cidr });
  }
  return result;
}
