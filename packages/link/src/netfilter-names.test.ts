// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { macSpoofCheckChain, macSpoofCheckComment, macSpoofCheckRefId, masqueradeComment, masqueradeInstanceHash, masqueradeNetworkHash } from './netfilter-names.ts';

describe('nftables masquerade comments', () => {
  // Values from upstream's pkg/ip/ipmasq_nftables_linux_test.go.
  it('matches upstream hashes and comments', () => {
    expect(masqueradeNetworkHash('unit-test')).toBe('6fd94d501e58f0aa');
    expect(masqueradeInstanceHash('unit-test', 'eth0', 'one')).toBe('6fd94d501e58f0aa-287fc69eff0574a2');
    expect(masqueradeComment('unit-test', 'eth0', 'two')).toBe('6fd94d501e58f0aa-d750b2c8f0f25d5f, net: unit-test, if: eth0, id: two');
    expect(masqueradeComment('alternate', 'net1', 'three')).toBe('82783ef24bdc7036-acb19d111858e348, net: alternate, if: net1, id: three');
  });

  it('drops double quotes and stays within 128 bytes', () => {
    expect(masqueradeComment('a"b', 'eth0', 'c')).toContain('net: ab,');
    const long = masqueradeComment('n'.repeat(200), 'eth0', 'c');
    expect(long).toHaveLength(128);
    expect(long.startsWith(masqueradeInstanceHash('n'.repeat(200), 'eth0', 'c'))).toBe(true);
  });
});

describe('macspoofchk names', () => {
  it('follows upstream bridge', () => {
    const refId = macSpoofCheckRefId('ctr-abc123', 'eth0');
    expect(refId).toBe('ctr-abc123-eth0');
    expect(macSpoofCheckChain(refId)).toBe('cni-br-iface-ctr-abc123-eth0');
    expect(macSpoofCheckComment(refId)).toBe('macspoofchk-ctr-abc123-eth0');
  });
});
