// SPDX-License-Identifier: Apache-2.0
// What needs no privilege: opening and validating namespace files of this very process.
import { readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NetnsError, NetnsNotFoundError, NotANetnsError } from './errors.ts';
import { getCurrentNetns, isNetns, isSameNetns, openNetns, withNetns } from './netns.ts';

describe('openNetns', () => {
  it('opens a namespace file and closes it once', () => {
    const netns = openNetns('/proc/self/ns/net');
    expect(netns.fd).toBeGreaterThan(2);
    expect(netns.closed).toBe(false);
    netns.close();
    netns.close();
    expect(netns.closed).toBe(true);
    expect(() => netns.fd).toThrow(NetnsError);
  });

  it('tells a missing path from a file that is not a namespace', () => {
    expect(() => openNetns('/nonexistent/netns')).toThrow(NetnsNotFoundError);
    expect(() => openNetns('/proc/self/status')).toThrow(NotANetnsError);
    expect(() => openNetns('/')).toThrow(/is not a network namespace/);
  });

  it('isNetns is true for nsfs files only', () => {
    expect(isNetns('/proc/self/ns/net')).toBe(true);
    expect(isNetns('/proc/self/status')).toBe(false);
    expect(isNetns('/nonexistent')).toBe(false);
  });

  it('getCurrentNetns opens the calling thread\'s namespace by its task path', () => {
    using current = getCurrentNetns();
    expect(current.path).toMatch(/^\/proc\/\d+\/task\/\d+\/ns\/net$/);
    expect(statSync(current.path).ino).toBe(statSync('/proc/self/ns/net').ino);
    expect(readlinkSync(current.path)).toBe(readlinkSync('/proc/thread-self/ns/net'));
  });
});

describe('isSameNetns', () => {
  it('compares namespaces, not paths', () => {
    using current = getCurrentNetns();
    expect(isSameNetns(current, '/proc/self/ns/net')).toBe(true);
    expect(isSameNetns('/proc/thread-self/ns/net', '/proc/self/ns/net')).toBe(true);
    expect(isSameNetns('/proc/self/ns/net', '/proc/self/ns/mnt')).toBe(false);
    expect(() => isSameNetns('/nonexistent', current)).toThrow(NetnsNotFoundError);
  });
});

describe('withNetns without privilege', () => {
  it('runs in the current namespace (a setns to itself is allowed to fail only without CAP_SYS_ADMIN)', () => {
    using current = getCurrentNetns();
    if (process.getuid?.() === 0) expect(withNetns(current, () => 42)).toBe(42);
    else expect(() => withNetns(current, () => 42)).toThrow(/failed to enter netns/);
  });
});
