// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { NetnsError, NetnsExistsError, NetnsNotFoundError, NotANetnsError, SysctlError } from './errors.ts';

describe('netns errors', () => {
  it('form one hierarchy recognised by markers', () => {
    const errors = [new NetnsNotFoundError('/x'), new NotANetnsError('/etc', 0xef53), new NetnsExistsError('/y'), new SysctlError('k', 'm')];
    for (const error of errors) {
      expect(NetnsError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(NetnsError);
    }
    expect(NetnsNotFoundError.isInstance(errors[0])).toBe(true);
    expect(NetnsNotFoundError.isInstance(errors[1])).toBe(false);
    expect(NotANetnsError.isInstance(errors[1])).toBe(true);
    expect(NetnsExistsError.isInstance(errors[2])).toBe(true);
    expect(SysctlError.isInstance(errors[3])).toBe(true);
    expect(NetnsError.isInstance(new Error('x'))).toBe(false);
  });

  it('say what failed, with the object quoted', () => {
    expect(new NetnsNotFoundError('/var/run/netns/c1').message).toBe('failed to open netns "/var/run/netns/c1": no such file or directory');
    expect(new NotANetnsError('/etc/hostname', 0xef53).message).toBe(
      '"/etc/hostname" is not a network namespace: filesystem magic 0xef53, expected nsfs (0x6e736673)',
    );
    expect(new NetnsExistsError('/var/run/netns/c1')).toMatchObject({ path: '/var/run/netns/c1', message: 'failed to create netns "/var/run/netns/c1": file exists' });
  });
});
