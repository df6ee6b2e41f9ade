// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { LinkNotFoundError, NetlinkError, tagOfErrno } from './errors.ts';
import { formatHandle, parseHandle } from './tc.ts';

describe('NetlinkError', () => {
  it('normalises errnos into tags', () => {
    expect([19, 2, 3, 99].map(tagOfErrno)).toEqual(['NotFound', 'NotFound', 'NotFound', 'NotFound']);
    expect(tagOfErrno(17)).toBe('AlreadyExists');
    expect(tagOfErrno(1)).toBe('PermissionDenied');
    expect(tagOfErrno(16)).toBe('Busy');
    expect(tagOfErrno(11)).toBe('WouldBlock'); // EAGAIN: one name in netlink and sys
    expect(tagOfErrno(4)).toBe('Interrupted');
    expect(tagOfErrno(95)).toBe('NotSupported');
    expect(tagOfErrno(22)).toBe('InvalidArgument');
    expect(tagOfErrno(101)).toBe('Unknown');
  });

  it('reads "Tag: operation (target): reason"', () => {
    const error = new NetlinkError({ operation: 'link.get', target: 'mv0', errno: 19 });
    expect(error.message).toBe('NotFound: link.get (mv0): No such device');
    expect(error).toMatchObject({ tag: 'NotFound', errno: 19, operation: 'link.get', target: 'mv0', code: 'ENODEV', name: 'NetlinkError' });
    expect(new NetlinkError({ operation: 'link.list' }).message).toBe('Unknown: link.list: invalid argument');
  });

  it('recognises its instances across copies, and LinkNotFoundError as a NetlinkError', () => {
    const notFound = new LinkNotFoundError({ operation: 'link.del', target: 'eth9' });
    expect(notFound.tag).toBe('NotFound');
    expect(notFound.errno).toBe(19);
    expect(NetlinkError.isInstance(notFound)).toBe(true);
    expect(LinkNotFoundError.isInstance(notFound)).toBe(true);
    expect(LinkNotFoundError.isInstance(new NetlinkError({ operation: 'x', errno: 19 }))).toBe(false);
    const foreign = Object.assign(new Error('x'), { [Symbol.for('cni.netlink.error')]: true });
    expect(NetlinkError.isInstance(foreign)).toBe(true);
    expect(NetlinkError.isInstance(new Error('x'))).toBe(false);
    expect(NetlinkError.isInstance(null)).toBe(false);
  });
});

describe('tc handles', () => {
  it('parses and formats handles as tc spells them', () => {
    expect(parseHandle('root')).toBe(0xffffffff);
    expect(parseHandle('ingress')).toBe(0xfffffff1);
    expect(parseHandle('ffff:')).toBe(0xffff0000);
    expect(parseHandle('1:2')).toBe(0x10002);
    expect(parseHandle(':10')).toBe(0x10);
    expect(parseHandle('x')).toBeUndefined();
    expect(parseHandle('12345:')).toBeUndefined();
    expect(formatHandle(0x10000)).toBe('1:');
    expect(formatHandle(0x1000a)).toBe('1:a');
    expect(formatHandle(0xffffffff)).toBe('root');
  });
});
