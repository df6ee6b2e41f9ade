// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import type { Dns } from '@cni/spec';

/**
 * Read a resolv.conf into a result's DNS, as upstream's host-local does: `nameserver` (one
 * each), `domain` (the last wins), `search` and `options` (every word); comments (`#`, `;`),
 * short lines and other keywords skipped.
 *
 * @throws the read's error (a missing file fails the ADD, as upstream).
 */
export function parseResolvConf(path: string): Dns {
  const dns: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] } = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2) continue;
    const [keyword, ...rest] = fields as [string, ...string[]];
    switch (keyword) {
      case 'nameserver':
        (dns.nameservers ??= []).push(rest[0]!);
        break;
      case 'domain':
        dns.domain = rest[0]!;
        break;
      case 'search':
        (dns.search ??= []).push(...rest);
        break;
      case 'options':
        (dns.options ??= []).push(...rest);
        break;
    }
  }
  return dns;
}
