// SPDX-License-Identifier: Apache-2.0
import { parseCidr, parseIp } from '@cni/ip';
import { describe, expect, it } from 'vitest';
import { prefixEnd } from './lib/etcd.ts';
import {
  affinityKey,
  blockHandles,
  blockInUse,
  blockKey,
  cidrOfKey,
  decodeBlock,
  encodeBlock,
  goTimestamp,
  handleKey,
  ipToOrdinal,
  newBlock,
  ordinalToIp,
  parseTimestamp,
  releaseHandle,
  takeOrdinals,
} from './lib/model.ts';
import { choosePools, type IpPool, validatePoolSpec } from './lib/pools.ts';

describe("Calico's keys", () => {
  it('names blocks, affinities and handles as the etcdv3 backend does', () => {
    expect(blockKey(parseCidr('10.0.0.0/26'))).toBe('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
    expect(blockKey(parseCidr('fd00:1::/122'))).toBe('/calico/ipam/v2/assignment/ipv6/block/fd00:1::-122');
    expect(affinityKey('node-1', parseCidr('10.0.0.64/26'))).toBe('/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26');
    expect(handleKey('k8s-pod-network.abc')).toBe('/calico/ipam/v2/handle/k8s-pod-network.abc');
    expect(cidrOfKey('/calico/ipam/v2/assignment/ipv6/block/fd00:1::-122')?.toString()).toBe('fd00:1::/122');
  });

  it('gives the end of a prefix range', () => {
    expect(prefixEnd('/calico/')).toBe('/calico0');
    expect(prefixEnd('/calico/ipam/v2/handle/')).toBe('/calico/ipam/v2/handle0');
  });
});

describe('AllocationBlock', () => {
  it('serialises with Go field order and nulls for free ordinals', () => {
    const block = newBlock(parseCidr('10.0.0.0/30'), 'n1');
    expect(encodeBlock(block)).toBe(
      '{"cidr":"10.0.0.0/30","affinity":"host:n1","allocations":[null,null,null,null],"unallocated":[0,1,2,3],"attributes":[],"sequenceNumber":0,"sequenceNumberForAllocation":{},"deleted":false}',
    );
    expect(decodeBlock(encodeBlock(block))).toEqual(block);
  });

  it('takes ordinals FIFO, records sequence numbers, frees to the back and renumbers attributes', () => {
    const block = newBlock(parseCidr('10.0.0.0/29'), 'n1');
    expect(takeOrdinals(block, 1, 'h1', { node: 'n1' })).toEqual([0]);
    expect(takeOrdinals(block, 2, 'h2', { node: 'n1' })).toEqual([1, 2]);
    expect(takeOrdinals(block, 1, 'h3', { node: 'n1' }, 6)).toEqual([6]);
    expect(takeOrdinals(block, 1, 'h4', { node: 'n1' }, 6)).toEqual([]);
    expect(block.allocations).toEqual([0, 1, 1, null, null, null, 2, null]);
    expect(block.sequenceNumberForAllocation).toEqual({ '0': 0, '1': 1, '2': 1, '6': 2 });
    expect(block.sequenceNumber).toBe(3);
    expect(releaseHandle(block, 'h2')).toBe(2);
    expect(block.allocations).toEqual([0, null, null, null, null, null, 1, null]);
    expect(block.attributes.map((a) => a.handle_id)).toEqual(['h1', 'h3']);
    expect(block.unallocated).toEqual([3, 4, 5, 7, 1, 2]);
    expect(block.sequenceNumberForAllocation).toEqual({ '0': 0, '6': 2 });
    expect(releaseHandle(block, 'nobody')).toBe(0);
    expect(blockInUse(block)).toBe(2);
    expect([...blockHandles(block).keys()]).toEqual(['h1', 'h3']);
    expect(ordinalToIp(block, 6).toString()).toBe('10.0.0.6');
    expect(ipToOrdinal(block, parseIp('10.0.0.7'))).toBe(7);
    expect(ipToOrdinal(block, parseIp('10.0.0.8'))).toBeUndefined();
  });

  it("reads and writes Go's time.String() timestamps", () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 120));
    expect(goTimestamp(date)).toBe('2026-01-02 03:04:05.12 +0000 UTC');
    expect(parseTimestamp('2026-01-02 03:04:05.123456789 +0000 UTC')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 123));
    expect(parseTimestamp('garbage')).toBeUndefined();
  });
});

describe('pools', () => {
  const pool = (name: string, cidr: string, disabled = false): IpPool => ({
    name,
    cidr: parseCidr(cidr),
    blockSize: 26,
    disabled,
    nodeSelector: 'all()',
    resource: { kind: 'IPPool', apiVersion: 'projectcalico.org/v3', metadata: { name }, spec: { cidr } },
    modRevision: '1',
  });
  const pools = [pool('a', '10.0.0.0/16'), pool('b', '10.1.0.0/16', true), pool('c', 'fd00::/64')];

  it('chooses enabled pools of the family, by name or CIDR', () => {
    expect(choosePools(pools, 4, []).map((p) => p.name)).toEqual(['a']);
    expect(choosePools(pools, 4, ['10.0.0.0/16']).map((p) => p.name)).toEqual(['a']);
    expect(choosePools(pools, 6, ['c']).map((p) => p.name)).toEqual(['c']);
    expect(() => choosePools(pools, 4, ['b'])).toThrow(/requested pool b \(10\.1\.0\.0\/16\) is disabled/);
    expect(() => choosePools(pools, 4, ['10.9.0.0/16'])).toThrow(/the given pool \(10\.9\.0\.0\/16\) does not exist/);
    expect(() => choosePools([pools[1]!], 4, [])).toThrow(/no enabled IPv4 pool \(pools: b \(disabled\)\)/);
  });

  it("checks block sizes as Calico's validator", () => {
    expect(() => validatePoolSpec({ name: 'x', cidr: '10.0.0.0/16', blockSize: 19 })).toThrow(/outside \[20, 32\]/);
    expect(() => validatePoolSpec({ name: 'x', cidr: '10.0.0.0/28', blockSize: 26 })).toThrow(/larger than the pool/);
    expect(() => validatePoolSpec({ name: 'x', cidr: '10.0.0.1/24' })).toThrow(/host bits/);
    expect(validatePoolSpec({ name: 'x', cidr: 'fd00::/64' }).toString()).toBe('fd00::/64');
  });
});
