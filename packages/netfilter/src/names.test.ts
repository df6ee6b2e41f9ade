// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatChainName,
  formatChainNameWithPrefix,
  formatComment,
  formatHashWithPrefix,
  goQuote,
  parseComment,
  truncateUtf8,
} from './names.ts';

describe('chain names', () => {
  // Values from upstream's pkg/utils/utils_test.go.
  it('matches upstream FormatChainName', () => {
    expect(formatChainName('test', '1234')).toBe('CNI-2bbe0c48b91a7d1b8a6753a8');
    expect(formatChainName('testalongnamethatdoesnotmakesense', '1234')).toBe('CNI-374f33fe84ab0ed84dcdebe3');
    expect(formatChainName('testalongnamethatdoesnotmakesense', '1235')).not.toBe('CNI-374f33fe84ab0ed84dcdebe3');
  });

  it('matches upstream MustFormatChainNameWithPrefix', () => {
    expect(formatChainNameWithPrefix('test', '1234', 'PREFIX-')).toBe('CNI-PREFIX-2bbe0c48b91a7d1b8');
    expect(formatChainNameWithPrefix('testalongnamethatdoesnotmakesense', '1234', 'PREFIX-')).toBe('CNI-PREFIX-374f33fe84ab0ed84');
  });

  // Read from iptables-save after Debian's /usr/lib/cni/bridge (v1.1.1) ran ADD with ipMasq
  // for network "mynet" and container "ctr-abc123".
  it('matches the chain the Debian reference bridge made', () => {
    expect(formatChainName('mynet', 'ctr-abc123')).toBe('CNI-b35254af8ad75f5ce3aedbb9');
  });

  it('is always 28 characters', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (name, id) => formatChainName(name, id).length === 28));
  });

  it('refuses a prefix that leaves no room', () => {
    expect(() => formatHashWithPrefix(10, 'ABCDEFGHIJ', 'x')).toThrow(RangeError);
    expect(() => formatHashWithPrefix(129, '', 'x')).toThrow(RangeError);
    expect(formatHashWithPrefix(10, 'AAA', 'some string')).toHaveLength(10);
  });
});

describe('iptables comments', () => {
  it('quotes as Go %q does', () => {
    expect(formatComment('mynet', 'ctr-abc123')).toBe('name: "mynet" id: "ctr-abc123"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('tab\there\n')).toBe('"tab\\there\\n"');
    expect(goQuote('\x00\x1b\x7f')).toBe('"\\x00\\x1b\\x7f"');
    expect(goQuote('café ☃')).toBe('"café ☃"');
    expect(goQuote('\u200b')).toBe('"\\u200b"');
    expect(goQuote('\u{e0001}')).toBe('"\\U000e0001"');
  });

  it('parses back what it formats', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (name, id) => {
        expect(parseComment(formatComment(name, id))).toEqual({ name, id });
      }),
    );
  });

  it('refuses comments that are not ours', () => {
    expect(parseComment('CNI portfwd masquerade mark')).toBeUndefined();
    expect(parseComment('name: "a" id: "b" extra')).toBeUndefined();
    expect(parseComment('name: "a id: "b"')).toBeUndefined();
  });
});

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    expect(Buffer.byteLength(truncateUtf8('é'.repeat(100), 127))).toBe(126);
    expect(truncateUtf8('short', 128)).toBe('short');
  });
});
