// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { errnoMessage, errnoName, tagOfErrno } from './errno.ts';
import { SysError } from './errors.ts';

describe('SysError', () => {
  it('names the call, quotes the target and lowercases the system text', () => {
    const error = new SysError('setns', 22, { target: '/var/run/netns/c1', description: 'Invalid argument (os error 22)' });
    expect(error.message).toBe('setns "/var/run/netns/c1": invalid argument (EINVAL)');
    expect(error).toMatchObject({ tag: 'InvalidArgument', errno: 22, code: 'EINVAL', syscall: 'setns', target: '/var/run/netns/c1' });
  });

  it('falls back to the symbolic errno without a description', () => {
    expect(new SysError('flock', 11).message).toBe('flock: EAGAIN');
  });

  it('is recognised across copies by its marker, not by its prototype', () => {
    const error = new SysError('mount', 2);
    expect(SysError.isInstance(error)).toBe(true);
    expect(SysError.isInstance({ ...error })).toBe(true);
    expect(SysError.isInstance(new Error('mount'))).toBe(false);
    expect(SysError.isInstance(null)).toBe(false);
  });

  it.each([
    [2, 'NotFound'],
    [19, 'NotFound'],
    [17, 'AlreadyExists'],
    [1, 'PermissionDenied'],
    [13, 'PermissionDenied'],
    [16, 'Busy'],
    [11, 'WouldBlock'],
    [22, 'InvalidArgument'],
    [9, 'InvalidArgument'],
    [95, 'NotSupported'],
    [97, 'NotSupported'],
    [4, 'Interrupted'],
    [34, 'InvalidArgument'],
    [101, 'Unknown'],
  ] as const)('maps errno %i to %s', (errno, tag) => {
    expect(tagOfErrno(errno)).toBe(tag);
  });

  it('names errnos as the system does', () => {
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(99999)).toBe('E99999');
    expect(errnoName(71)).toBe('EPROTO'); // not in the table: the system's name
    expect(errnoMessage(19)).toBe('No such device');
    expect(errnoMessage(99999)).toBe('errno 99999');
  });
});
