// SPDX-License-Identifier: Apache-2.0
// A tiny stand-in for @cni/testkit's namespace fixture (which may import this package, so this
// package's tests must not import it): names made and removed with iproute2, the oracle.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { onTestFinished } from 'vitest';

let counter = 0;

/** A name no other test, worker or run on this machine uses at the same time. */
export function uniqueName(prefix = 'cni-netns'): string {
  counter += 1;
  // The pid and a random part: test files may share a process (threads pool) or run side by side.
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}-${counter}`;
}

/** Run `ip` with arguments and give its stdout. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run a command inside a named namespace with `ip netns exec` and give its stdout. */
export function inIpNetns(name: string, ...command: string[]): string {
  return ip('netns', 'exec', name, ...command);
}

/** The names `ip netns list` prints. */
export function ipNetnsNames(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

/** Remove a named namespace if it is still there (the test may have removed it). */
export function removeIpNetns(name: string): void {
  if (existsSync(`/var/run/netns/${name}`)) execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
}

/** Make a namespace with `ip netns add`, removed when the test ends, passed or failed. */
export function makeIpNetns(): string {
  const name = uniqueName();
  ip('netns', 'add', name);
  onTestFinished(() => removeIpNetns(name));
  return name;
}

/** Register removal of a namespace this package's code is about to create. */
export function removeWhenDone(name: string): string {
  onTestFinished(() => removeIpNetns(name));
  return name;
}
