// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipVersionOf, isIp, parseCidr, parseIp } from './ip.ts';

describe('IP parsing as Go net.ParseIP / ParseCIDR', () => {
  it.each(['0.0.0.0', '10.1.2.3', '255.255.255.255', '::', '::1', 'fd00::1', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', '1::2:3.4.5.6', '::0:0:0:0:0:0:0', 'FD00::A'])(
    'accepts %s',
    (ip) => expect(isIp(ip)).toBe(true),
  );

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', 'fe80::1%eth0', '12345::', 'g::', '1.2.3.4::', ' 1.2.3.4'])(
    'refuses %j',
    (ip) => expect(isIp(ip)).toBe(false),
  );

  it('expands IPv6', () => {
    expect(parseIp('fd00::1')).toEqual([0xfd, 0, ...new Array(13).fill(0), 1]);
    expect(parseIp('::ffff:1.2.3.4')).toEqual([...new Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]);
  });

  it('checks the prefix against the family as written', () => {
    expect(parseCidr('10.0.0.0/32')).toBeDefined();
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('::/128')).toBeDefined();
    expect(parseCidr('::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0')).toBeUndefined();
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
    expect(parseCidr('10.0.0.0/a')).toBeUndefined();
  });

  it('tells families apart as To4 does', () => {
    expect(ipVersionOf('10.0.0.1/8')).toBe('4');
    expect(ipVersionOf('::ffff:10.0.0.1/104')).toBe('4');
    expect(ipVersionOf('::ffff:a00:1')).toBe('4');
    expect(ipVersionOf('::/0')).toBe('6');
    expect(ipVersionOf('fd00::1')).toBe('6');
  });

  it('agrees with fast-check generated addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(ipVersionOf(ip)).toBe('4');
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(isIp(ip)).toBe(true);
      }),
    );
  });
});
