// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { attributeList } from './internal/message/reader.ts';
import { MessageWriter } from './internal/message/writer.ts';
import { decodeMultipath, encodeMultipath } from './route.ts';

describe('RTA_MULTIPATH', () => {
  it('writes struct rtnexthop (len, flags, hops = weight - 1, ifindex) with an RTA_GATEWAY, and reads it back', () => {
    const writer = new MessageWriter(Buffer.alloc(256));
    writer.begin(24, 0, 1);
    encodeMultipath(writer, [
      { gateway: Buffer.from([10, 10, 0, 1]), linkIndex: 7, weight: 3, onlink: false },
      { gateway: Buffer.from([10, 20, 0, 1]), linkIndex: 9, weight: 1, onlink: true },
    ]);
    const length = writer.finish();
    const [[type, payload]] = attributeList(writer.buffer.subarray(16, length)) as [[number, Buffer]];
    expect(type).toBe(9);
    // Each nexthop: 8 bytes of rtnexthop then RTA_GATEWAY (len 8, type 5, the address).
    expect(payload.toString('hex')).toBe('1000' + '00' + '02' + '07000000' + '0800' + '0500' + '0a0a0001' + '1000' + '04' + '00' + '09000000' + '0800' + '0500' + '0a140001');
    expect(decodeMultipath(payload)).toEqual([
      { gateway: '10.10.0.1', linkIndex: 7, weight: 3, onlink: false },
      { gateway: '10.20.0.1', linkIndex: 9, weight: 1, onlink: true },
    ]);
  });
});
