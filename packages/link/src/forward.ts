// SPDX-License-Identifier: Apache-2.0
import { readSysctl, writeSysctl } from '@cni/netns';

const FORWARD_KEYS = { 4: 'net/ipv4/ip_forward', 6: 'net/ipv6/conf/all/forwarding' } as const;

/**
 * Turn on IP forwarding in the plugin's namespace for each family that has an address, as
 * upstream's `EnableForward`; a value already `1` is left unwritten.
 */
export function enableForward(addresses: readonly string[]): void {
  const families = new Set(addresses.map((address) => (address.includes(':') ? 6 : 4) as 4 | 6));
  for (const family of families) {
    const key = FORWARD_KEYS[family];
    if (readSysctl(key).trim() === '1') continue;
    try {
      writeSysctl(key, '1');
    } catch (error) {
      throw new Error(`could not enable IP forwarding: ${(error as Error).message}`, { cause: error });
    }
  }
}
